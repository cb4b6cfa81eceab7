"""The sequencer: events queued by use cases are chained after the commit, exactly once, in one gap-free order.

Most tests run on both backends with the sequencer switched on (AUDIT_SEQUENCE_AT_RECORD = False, the default
on PostgreSQL); the concurrent ones need PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest
import sqlalchemy as sa

from portal.actors import SYSTEM, Actor
from portal.audit import queries, sequencer
from portal.audit import services as audit
from portal.audit.chain import hash_of
from portal.audit.models import AuditEvent, AuditPending
from portal.departments.models import Department
from portal.extensions import db
from portal.transaction import transaction
from tests.builders import make_user
from tests.portal.audit.helpers import sign_in

POSTGRESQL = os.environ.get("STADTPORTAL_TEST_DB", "sqlite") == "postgresql"
needs_postgresql = pytest.mark.skipif(not POSTGRESQL, reason="concurrent sequencers need PostgreSQL")


@pytest.fixture
def deferred(app):
    """Events are queued by record() and chained by the sequencer, as on PostgreSQL."""
    app.config["AUDIT_SEQUENCE_AT_RECORD"] = False
    return app


@pytest.fixture
def crashed(deferred, monkeypatch):
    """Every process "dies" right after its commit: the after-commit sequencing never happens."""
    monkeypatch.setattr(sequencer, "sequence_after_commit", lambda engine: None)
    return deferred


def chain() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)))


def queued() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditPending)) or 0


def assert_gap_free(events: list[AuditEvent], count: int) -> None:
    assert [e.seq for e in events] == list(range(1, count + 1))
    assert all(e.hash == hash_of(e) for e in events)
    assert all(events[i].prev_hash == events[i - 1].hash for i in range(1, len(events)))
    keys = [e.event_key for e in events]
    assert None not in keys and len(set(keys)) == len(keys), "an event was chained twice"


def test_the_event_waits_in_the_queue_inside_the_transaction_and_is_chained_after_the_commit(deferred):
    with transaction():
        department = Department(slug="ordnungsamt", name="Ordnungsamt")
        db.session.add(department)
        recorded = audit.record("department.saved", SYSTEM, target=department, name=department.name)
        assert queued() == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0

    [event] = chain()
    assert (event.seq, event.event_key, event.action) == (1, recorded.event_key, "department.saved")
    assert event.occurred_at == recorded.occurred_at
    assert queued() == 0


def test_a_rolled_back_use_case_leaves_nothing_in_the_queue(deferred):
    with pytest.raises(RuntimeError), transaction():
        audit.record("account.logout", SYSTEM)
        raise RuntimeError("the use case failed")
    assert queued() == 0
    assert chain() == []


def test_events_committed_before_a_crash_are_chained_by_the_next_sequencer_run(crashed, runner):
    keys = []
    for i in range(3):
        with transaction():
            keys.append(audit.record("account.login", SYSTEM, method="password", n=i).event_key)
    assert chain() == [] and queued() == 3  # committed, durable, not yet chained

    result = runner.invoke(args=["jobs", "run-once", "audit.sequence"])
    assert result.exit_code == 0, result.output

    events = chain()
    assert_gap_free(events, 3)
    assert [e.event_key for e in events] == keys  # in the order they were queued
    assert queued() == 0
    verified = runner.invoke(args=["audit", "verify", "--quiet"])
    assert verified.exit_code == 0 and "3 events checked" in verified.stdout


def test_the_queue_continues_the_chain_after_events_chained_at_once(crashed):
    with transaction():
        audit.record("account.login", SYSTEM, method="password")
    with transaction():
        now = audit.record_now("account.logout", SYSTEM)
    # record_now chains what was queued before it, then itself: its seq is final before the commit.
    assert now.seq == 2
    with transaction():
        audit.record("account.login", SYSTEM, method="password")
    assert sequencer.sequence() == 1
    events = chain()
    assert_gap_free(events, 3)
    assert [e.action for e in events] == ["account.login", "account.logout", "account.login"]


def test_readers_see_an_event_once_it_is_sequenced(crashed, client):
    anna = make_user("anna@example.org")
    with transaction():
        audit.record("account.login", SYSTEM, subject_user_id=anna.id, method="password")
    assert chain() == []

    sign_in(client, anna)
    page = client.get("/konto/protokoll").get_data(as_text=True)  # the citizen's page catches up first
    assert "Anmeldung" in page
    [event] = chain()
    assert event.subject_user_id == anna.id
    assert client.get(f"/konto/protokoll/{event.seq}").status_code == 200
    assert queued() == 0


def test_the_admin_listing_catches_up_too(crashed):
    admin = make_user("admin@example.org", roles=("platform_admin",))
    with transaction():
        audit.record("account.logout", SYSTEM)
    listing = queries.list_events(Actor.for_user(admin), queries.AuditFilter())
    assert [e.action for e in listing.items] == ["account.logout"]


def test_verify_warns_about_events_the_sequencer_left_waiting(crashed, runner):
    with transaction():
        audit.record("account.logout", SYSTEM)
    fresh = runner.invoke(args=["audit", "verify", "--quiet", "--pending-warn-seconds", "3600"])
    assert "wait for the sequencer" not in fresh.stderr

    with transaction():
        audit.record("account.logout", SYSTEM)
    stuck = runner.invoke(args=["audit", "verify", "--quiet", "--pending-warn-seconds", "0"])
    assert stuck.exit_code == 0, stuck.output
    assert "warning: 1 audit events wait for the sequencer" in stuck.stderr
    assert "2 events checked" in stuck.stdout  # chained before verifying


def test_flask_audit_sequence_chains_the_queue(crashed, runner):
    for _ in range(2):
        with transaction():
            audit.record("account.logout", SYSTEM)
    result = runner.invoke(args=["audit", "sequence"])
    assert result.exit_code == 0, result.output
    assert "2 queued events chained (2 were waiting)" in result.stdout
    assert_gap_free(chain(), 2)


def test_a_backlog_larger_than_a_batch_is_chained_in_order(crashed, monkeypatch):
    monkeypatch.setattr(sequencer, "BATCH", 7)
    with transaction():
        keys = [audit.record("account.logout", SYSTEM).event_key for _ in range(20)]
    assert sequencer.sequence() == 20
    events = chain()
    assert_gap_free(events, 20)
    assert [e.event_key for e in events] == keys


def test_the_sequencer_thread_chains_the_events_soon_after_the_commit(deferred):
    deferred.config["AUDIT_SEQUENCE_AFTER_COMMIT"] = "thread"  # production's default: the request does not wait
    for _ in range(5):
        with transaction():
            audit.record("account.logout", SYSTEM)
    waited = 0
    while queued() and waited < 200:  # up to 10 s on a busy machine; usually a few tens of milliseconds
        db.session.rollback()
        threading.Event().wait(0.05)
        waited += 1
    assert queued() == 0
    assert_gap_free(chain(), 5)


@pytest.mark.skipif(POSTGRESQL, reason="SQLite's default")
def test_on_sqlite_the_event_is_chained_in_the_use_cases_own_transaction(app):
    with transaction():
        audit.record("account.logout", SYSTEM)
        assert queued() == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


def test_queue_model_and_migration_agree(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert [d for d in diff if "audit_pending" in repr(d) or "event_key" in repr(d)] == []


# --- concurrency (PostgreSQL) -----------------------------------------------------------------------------------


def _in_threads(app, count: int, work) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                work(n)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@needs_postgresql
def test_concurrent_writers_sequencers_and_readers_leave_one_gap_free_chain(app, runner):
    writers, per_writer = 6, 30
    finished: list[int] = []
    done = threading.Event()

    def work(n: int) -> None:
        if n < writers:
            for i in range(per_writer):
                with transaction():  # a change and its event, committed together; sequenced after the commit
                    department = Department(slug=f"amt-{n}-{i}", name=f"Amt {n}/{i}")
                    db.session.add(department)
                    audit.record("department.saved", SYSTEM, target=department, name=department.name)
            finished.append(n)
            if len(finished) == writers:
                done.set()
        elif n == writers:
            while not done.is_set():  # the job, running all the time
                sequencer.sequence()
        else:
            while not done.is_set():  # a reader
                sequencer.catch_up()
                db.session.rollback()

    assert _in_threads(app, writers + 2, work) == []
    sequencer.sequence()  # whatever a writer left to the sequencers that were stopped meanwhile
    assert_gap_free(chain(), writers * per_writer)
    assert queued() == 0
    result = runner.invoke(args=["audit", "verify", "--quiet"])
    assert result.exit_code == 0, result.output


@needs_postgresql
def test_after_commit_sequencing_leaves_nothing_behind_when_the_writers_stop(app):
    # Writers that find the lock taken leave their events to the holder, which looks again after releasing it.
    def work(n: int) -> None:
        for i in range(25):
            with transaction():
                audit.record("account.login", SYSTEM, method="thread", writer=n, n=i)

    assert _in_threads(app, 8, work) == []
    assert queued() == 0
    assert_gap_free(chain(), 200)


@needs_postgresql
def test_two_sequencers_at_once_never_fork_or_duplicate(crashed, monkeypatch):
    monkeypatch.setattr(sequencer, "BATCH", 50)
    with transaction():
        keys = [audit.record("account.logout", SYSTEM).event_key for _ in range(1000)]
    counts: list[int] = []

    def work(n: int) -> None:
        if n % 2:
            counts.append(sequencer.sequence())
        else:
            engine = db.engine
            for _ in range(30):
                sequencer._round_if_free(engine)

    assert _in_threads(crashed, 4, work) == []
    events = chain()
    assert_gap_free(events, 1000)
    assert sorted(e.event_key for e in events) == sorted(keys)
    assert queued() == 0


def test_in_worker_mode_a_commit_only_queues_and_the_workers_poller_chains(deferred):
    deferred.config.update(AUDIT_SEQUENCE_AFTER_COMMIT="worker", AUDIT_SEQUENCER_POLL_SECONDS=0.02)
    for _ in range(5):
        with transaction():
            audit.record("account.logout", SYSTEM)
    threading.Event().wait(0.3)  # the sequencer thread would have chained them by now (it waits 20 ms)
    db.session.rollback()
    assert queued() == 5
    poller = sequencer.start_queue_poller(deferred)
    assert poller is not None and poller.is_alive()
    try:
        waited = 0
        while queued() and waited < 200:  # up to 10 s on a busy machine
            db.session.rollback()
            threading.Event().wait(0.05)
            waited += 1
    finally:
        poller.stop.set()
        poller.join()
    assert queued() == 0
    assert_gap_free(chain(), 5)


def test_the_poller_runs_only_where_the_web_processes_leave_the_chaining_to_the_worker(deferred):
    for mode in ("thread", "inline"):
        deferred.config["AUDIT_SEQUENCE_AFTER_COMMIT"] = mode
        assert sequencer.start_queue_poller(deferred) is None


def test_flask_worker_polls_the_queue_while_it_runs(deferred, monkeypatch):
    from portal import jobs

    deferred.config.update(AUDIT_SEQUENCE_AFTER_COMMIT="worker", AUDIT_SEQUENCER_POLL_SECONDS=0.02)
    seen: list[bool] = []

    def one_round(declared, *, mail, stop):
        seen.append(any(t.name == "audit-queue-poller" and t.is_alive() for t in threading.enumerate()))
        signal.raise_signal(signal.SIGTERM)  # as an operator's stop would; the worker finishes its round
        return []

    monkeypatch.setattr(jobs, "work_round", one_round)
    jobs.work(0.01, mail=False)
    assert seen == [True]
    assert not any(t.name == "audit-queue-poller" and t.is_alive() for t in threading.enumerate())


def test_an_unknown_after_commit_mode_is_refused():
    from portal import create_app

    with pytest.raises(ValueError, match="AUDIT_SEQUENCE_AFTER_COMMIT"):
        create_app({"AUDIT_SEQUENCE_AFTER_COMMIT": "sometimes", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, env="test")
