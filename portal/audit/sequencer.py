"""The audit sequencer: moves queued events (audit_pending) into the hash chain (audit_event), in one order,
under one lock, in batches, after the use cases that wrote them have committed.

Why: when every use case took the chain lock itself, audited transactions committed one at a time (the lock
was held until the commit's WAL flush), so 4 writers reached about a quarter of the unaudited throughput.
Now a use case only inserts its event into audit_pending, in its own transaction and without any lock (as
Trillian queues leaves and a single sequencer integrates them). The chain stays gap-free and verifiable:

- `chain_batch` runs in one transaction holding the chain lock: read the chain's end, delete the oldest
  committed queued rows (RETURNING them), insert them into audit_event with seq, prev_hash and hash. Either
  all of it commits or none: an event is chained exactly once and never lost. seq is audit_event's primary
  key and event_key is unique there, so even a sequencer that ran without the lock could only fail, never
  fork or duplicate the chain.
- A crash between a use case's commit and sequencing loses nothing: the row waits in audit_pending, and the
  next run (any of the three below) chains it.

When it runs:
1. Right after a commit that queued events (`after_commit` of the session), on a connection of its own, only
   if the lock is free (pg_try_advisory_xact_lock): sequencers never queue up behind one another. One that
   finds the lock taken leaves the events to the holder, which looks for more after releasing the lock (so a
   lost wake-up is impossible: whatever committed before that look is seen by it). By default this runs in a
   sequencer thread of the committing process, so the request does not wait for it and one round chains the
   events of many commits (AUDIT_SEQUENCE_AFTER_COMMIT = "thread"); "inline" runs it in the committing thread
   before commit() returns (the tests: what a use case wrote is on the chain when it returns); "worker" leaves
   it to `flask worker`, whose poller (QueuePoller) looks at the queue every AUDIT_SEQUENCER_POLL_SECONDS and
   chains what it finds: one sequencer for all web processes, none of their CPU or round trips spent on it
   (with several gunicorn workers, their threads' rounds mostly find the lock taken or the queue empty).
2. As the job `audit.sequence` every 10 s (`flask jobs run`), and `flask audit sequence` by hand.
3. `catch_up()` before every reader that needs the chain (verify, checkpoints, proofs, the Protokoll pages,
   the audit feed, the GDPR export, the payment history): waits for the lock, so what committed before the
   reader started is on the chain when it reads.

On SQLite (tests, the embedded demo) there is no concurrency: record() chains at once, in the use case's own
transaction. AUDIT_SEQUENCE_AT_RECORD (True/False) overrides that choice; None means "on SQLite only".
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from portal.audit.chain import GENESIS_HASH, chain_hash, event_payload
from portal.audit.models import AuditEvent, AuditPending
from portal.extensions import db
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

# Any constant: every sequencer of the chain takes this advisory lock on PostgreSQL (and checkpoints do).
CHAIN_LOCK_KEY = 7_254_001
BATCH = 1000  # events chained per statement pair; a backlog is worked off in transactions of this size
# After its round, an after-commit sequencer looks for events queued meanwhile and goes again; at most this many
# rounds, so a writer's own request is not held up for long under a steady load (the next writer takes over).
AFTER_COMMIT_ROUNDS = 3
# A reader waits at most this long for a running sequencer; then it reads what is chained and logs a warning.
READER_LOCK_TIMEOUT = "5s"
JOB_EVERY = timedelta(seconds=10)
# The sequencer thread's pause after a wake-up, to chain several commits' events in one round.
COALESCE_SECONDS = 0.02
AFTER_COMMIT_MODES = ("thread", "inline", "worker")

_QUEUED = "audit_queued"  # session.info: this transaction queued events: (engine, chain them in the thread?)
_LOCKED = "audit_chain_locked"  # session.info: this transaction holds the chain lock

PENDING = cast(sa.Table, AuditPending.__table__)
_events = cast(sa.Table, AuditEvent.__table__)
HASHED_FIELDS = (
    "occurred_at",
    "actor_type",
    "actor_id",
    "on_behalf_of",
    "action",
    "target_type",
    "target_id",
    "subject_user_id",
    "details",
    "request_id",
    "ip",
    "outcome",
)
_LOCK = sa.text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=CHAIN_LOCK_KEY)
# The sequencer's transactions commit durably like any other (synchronous_commit stays on): a seq, once given,
# is shown to citizens and put into proofs, so a server crash must not lose a chaining that a page has shown and
# let the next run give that seq to another event.
_TRY_LOCK = sa.text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(k=CHAIN_LOCK_KEY)
_INSERT_EVENTS = sa.insert(_events)
_CHAIN_END = sa.select(_events.c.seq, _events.c.hash).order_by(_events.c.seq.desc()).limit(1)
_TAKE = (
    sa.delete(PENDING)
    .where(PENDING.c.id.in_(sa.select(PENDING.c.id).order_by(PENDING.c.id).limit(sa.bindparam("limit"))))
    .returning(*PENDING.c)
)
_taken = _TAKE.cte("taken")
_end = _CHAIN_END.subquery("chain_end")
_TAKE_WITH_END = sa.select(_taken, _end.c.seq.label("end_seq"), _end.c.hash.label("end_hash")).select_from(
    _taken.outerjoin(_end, sa.true())
)
INSERT_PENDING = sa.insert(PENDING)
_ANY_QUEUED = sa.select(sa.exists().where(PENDING.c.id.isnot(None)))


@dataclass(frozen=True)
class Chained:
    event_key: str
    seq: int


@dataclass(frozen=True)
class QueueState:
    """What waits for the sequencer: how many events, and since when the oldest (None when the queue is empty)."""

    count: int
    oldest: datetime | None

    def oldest_age(self, now: datetime | None = None) -> timedelta | None:
        return None if self.oldest is None else (now or utcnow()) - self.oldest


def _is_postgresql(bind: sa.Connection | sa.Engine) -> bool:
    return bind.dialect.name == "postgresql"


def _take_batch(connection: sa.Connection, limit: int) -> tuple[list[Any], int, str]:
    """Delete up to `limit` queued rows, oldest id first, returning them and the chain's end (seq, hash).

    On PostgreSQL one statement does both (one round trip, one snapshot, taken after the lock was granted).
    """
    if _is_postgresql(connection):
        rows = list(connection.execute(_TAKE_WITH_END, {"limit": limit}).all())
        if not rows:
            return [], 0, GENESIS_HASH
        first = rows[0]
        return rows, first.end_seq or 0, first.end_hash or GENESIS_HASH
    last = connection.execute(_CHAIN_END).first()
    rows = list(connection.execute(_TAKE, {"limit": limit}).all())
    return rows, (last.seq if last else 0), (last.hash if last else GENESIS_HASH)


def chain_batch(connection: sa.Connection, limit: int = BATCH) -> list[Chained]:
    """Chain up to `limit` queued events visible to `connection`'s transaction, oldest id first.

    The caller holds the chain lock (PostgreSQL) and commits; both statements run in its transaction.
    """
    rows, seq, prev_hash = _take_batch(connection, limit)
    if not rows:
        return []
    values: list[dict[str, Any]] = []
    chained: list[Chained] = []
    for row in sorted(rows, key=lambda r: r.id):  # RETURNING promises no order
        seq += 1
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        digest = chain_hash(prev_hash, event_payload(seq=seq, **fields))
        values.append({**fields, "seq": seq, "prev_hash": prev_hash, "hash": digest, "event_key": row.event_key})
        chained.append(Chained(row.event_key, seq))
        prev_hash = digest
    connection.execute(_INSERT_EVENTS, values)
    return chained


# --- in the caller's transaction ------------------------------------------------------------------------------


def chains_at_record() -> bool:
    """Whether record() chains in the use case's transaction (SQLite) or leaves it to the sequencer."""
    configured = current_app.config.get("AUDIT_SEQUENCE_AT_RECORD")
    if configured is not None:
        return bool(configured)
    return not _is_postgresql(db.session.get_bind())


def lock_in_session() -> None:
    """Take the chain lock for the rest of the current transaction (re-entrant; nothing to take on SQLite)."""
    session = db.session()
    if session.info.get(_LOCKED):
        return
    if _is_postgresql(session.get_bind()):
        session.execute(_LOCK)
    session.info[_LOCKED] = True


def chain_in_session() -> list[Chained]:
    """Chain every queued event this transaction sees, its own included, in this transaction.

    Holds the chain lock until the transaction ends, so concurrent audited use cases are serialised behind it
    again: for the few use cases that need their event's seq before they commit (audit.record_now).
    """
    lock_in_session()
    connection = db.session.connection()
    chained: list[Chained] = []
    while True:
        batch = chain_batch(connection)
        chained.extend(batch)
        if len(batch) < BATCH:
            return chained


def note_queued() -> None:
    """Called by record(): after this transaction commits, its events are to be chained (in the committing
    thread, by the process's sequencer thread or by the worker's poller: AUDIT_SEQUENCE_AFTER_COMMIT)."""
    session = db.session()
    session.info[_QUEUED] = (session.get_bind(), current_app.config.get("AUDIT_SEQUENCE_AFTER_COMMIT", "thread"))


# --- on connections of its own ----------------------------------------------------------------------------------


def sequence(engine: sa.Engine | None = None, *, lock_timeout: str | None = None) -> int:
    """Chain every event committed to the queue so far, waiting for the lock. Returns how many were chained.

    One transaction per batch, so a backlog does not hold the lock for long. Used by the job, the CLI, readers.
    """
    engine = engine or db.engine
    total = 0
    with engine.connect() as connection:
        while True:
            if _is_postgresql(connection):
                if lock_timeout:
                    connection.execute(sa.select(sa.func.set_config("lock_timeout", lock_timeout, True)))
                connection.execute(_LOCK)
            batch = chain_batch(connection)
            connection.commit()
            total += len(batch)
            if len(batch) < BATCH:
                return total


def _round_if_free(engine: sa.Engine) -> bool:
    """Chain what is queued if no other sequencer is running. True if more was queued meanwhile."""
    with engine.connect() as connection:
        if _is_postgresql(connection) and not connection.execute(_TRY_LOCK).scalar():
            connection.rollback()
            return False  # the holder looks for our events after it released the lock
        while len(chain_batch(connection)) == BATCH:
            pass
        connection.commit()
        # After the lock is released: events of writers who found it taken are visible now, or they commit later
        # and find it free themselves.
        more = bool(connection.execute(_ANY_QUEUED).scalar())
        connection.rollback()
        return more


def sequence_after_commit(engine: sa.Engine) -> None:
    """The after-commit work: a few rounds while the lock is free; never raises (the job catches up)."""
    try:
        for _ in range(AFTER_COMMIT_ROUNDS):
            if not _round_if_free(engine):
                return
    except Exception:
        log.warning("audit sequencing after commit failed; the job audit.sequence will chain the events", exc_info=True)


class _SequencerThread:
    """One daemon thread per process that chains the queue when a commit queued events, so the committing
    request does not wait for it. It waits COALESCE_SECONDS after a wake-up so that one round chains the events
    of many commits (a round costs a few round trips and a commit however many events it chains); a wake-up
    during a round, or events found queued after it, make it go again. Started lazily in the process that
    commits (after a fork, gunicorn's workers start their own); if the process dies, the queue is still there
    for the job."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.engines: dict[int, sa.Engine] = {}
        self.thread: threading.Thread | None = None
        self.pid = 0

    def notify(self, engine: sa.Engine) -> None:
        with self.lock:
            self.engines[id(engine)] = engine
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                if self.pid != os.getpid():
                    atexit.register(self.at_exit)
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self.run, name="audit-sequencer", daemon=True)
                self.thread.start()
        self.wake.set()

    def at_exit(self) -> None:
        """A CLI command that exits right after its commit: chain its events rather than leave them to the job."""
        with self.lock:
            engines, self.engines = list(self.engines.values()), {}
        for engine in engines:
            sequence_after_commit(engine)

    def run(self) -> None:
        again: dict[int, sa.Engine] = {}
        while True:
            if not again:
                self.wake.wait()
            time.sleep(COALESCE_SECONDS)
            self.wake.clear()
            with self.lock:
                engines, self.engines = {**again, **self.engines}, {}
            again = {}
            for key, engine in engines.items():
                try:
                    if _round_if_free(engine):
                        again[key] = engine
                except Exception:
                    log.warning("audit sequencer thread: a round failed; the job catches up", exc_info=True)


_thread = _SequencerThread()


class QueuePoller(threading.Thread):
    """`flask worker`'s sequencer when AUDIT_SEQUENCE_AFTER_COMMIT = "worker": every `every` seconds, one cheap
    look at the queue and, if something waits, a round under the chain lock (skipped while another sequencer
    or a reader's catch-up holds it; the next look finds what is left). Workers on several hosts may all poll:
    the lock makes them take turns. Errors are logged and the poller goes on (a database restart must not end
    it); the job audit.sequence and the readers' catch-up chain the queue meanwhile."""

    def __init__(self, app: Flask, every: float) -> None:
        super().__init__(name="audit-queue-poller", daemon=True)
        self.app, self.every = app, every
        self.stop = threading.Event()
        self.rounds = 0

    def run(self) -> None:
        with self.app.app_context():
            engine = db.engine
            while not self.stop.wait(self.every):
                try:
                    with engine.connect() as connection:
                        waiting = connection.execute(_ANY_QUEUED).scalar()
                        connection.rollback()
                    if waiting:
                        _round_if_free(engine)
                        self.rounds += 1
                except Exception:
                    log.warning("audit queue poller: a round failed; trying again", exc_info=True)
                    self.stop.wait(1.0)


def start_queue_poller(app: Flask) -> QueuePoller | None:
    """For `flask worker`: the poller, started, if the web processes leave the chaining to the worker."""
    if app.config.get("AUDIT_SEQUENCE_AFTER_COMMIT") != "worker":
        return None
    poller = QueuePoller(app, float(app.config.get("AUDIT_SEQUENCER_POLL_SECONDS", 0.05)))
    poller.start()
    return poller


def catch_up() -> None:
    """Before reading the chain: chain every event committed so far (and this transaction's own queued events).

    If this transaction queued events or holds the chain lock, they are chained in it (under the lock until it
    ends); otherwise on a connection of its own, waiting up to READER_LOCK_TIMEOUT for a running sequencer.
    """
    session = db.session()
    if session.info.get(_LOCKED) or session.info.get(_QUEUED) is not None:
        chain_in_session()
        return
    if not _is_postgresql(session.get_bind()):
        # SQLite chains at record(); a queue is left only if AUDIT_SEQUENCE_AT_RECORD was switched off.
        if session.execute(_ANY_QUEUED).scalar():
            chain_in_session()
        return
    engine = session.get_bind()
    assert isinstance(engine, sa.Engine)
    try:
        with engine.connect() as connection:
            if not connection.execute(_ANY_QUEUED).scalar():
                return
        sequence(engine, lock_timeout=READER_LOCK_TIMEOUT)
    except sa.exc.OperationalError:
        log.warning("audit catch-up gave up waiting for the chain lock; reading the chain as it is", exc_info=True)


def queue_state(connection: sa.Connection) -> QueueState:
    row = connection.execute(sa.select(sa.func.count(), sa.func.min(PENDING.c.occurred_at))).one()
    oldest = row[1]
    if isinstance(oldest, str):  # SQLite's min() loses the column type
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return QueueState(count=row[0], oldest=oldest)


# --- wiring ---------------------------------------------------------------------------------------------------


def _after_commit(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    session.info.pop(_LOCKED, None)
    if queued is None:
        return
    engine, after_commit = queued
    if after_commit == "thread":
        _thread.notify(engine)
    elif after_commit == "inline":
        sequence_after_commit(engine)
    # "worker": the worker's QueuePoller finds the events at its next look


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: its lock is gone, its queued rows committed or not
        session.info.pop(_QUEUED, None)
        session.info.pop(_LOCKED, None)


def init_app(app: Flask) -> None:
    """The session hooks; the job audit.sequence is declared with the audit's other jobs (portal.audit.jobs)."""
    if app.config.get("AUDIT_SEQUENCE_AFTER_COMMIT", "thread") not in AFTER_COMMIT_MODES:
        raise ValueError(f"AUDIT_SEQUENCE_AFTER_COMMIT must be one of {', '.join(AFTER_COMMIT_MODES)}")
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_transaction_end", _after_transaction_end)
