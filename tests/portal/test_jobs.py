"""The worker runs what services declare, at their intervals; one failing job never stops the others."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import job_runs, jobs
from portal.extensions import db
from portal.job_runs import JobRun
from portal.timeutil import utcnow
from tests.conftest import BACKEND


def test_services_declare_their_jobs(app, runner):
    listed = runner.invoke(args=["jobs", "list"]).output
    assert "appointments.release-expired\tevery 60 s" in listed
    assert "payments.sweep\tevery 180 s" in listed


def test_due_jobs_are_those_whose_interval_has_passed_since_their_last_start_anywhere(app):
    calls = {
        "test.fast": jobs.Job("test.fast", timedelta(seconds=30), lambda: None),
        "test.slow": jobs.Job("test.slow", timedelta(hours=1), lambda: None),
    }
    assert [j.name for j in jobs.due(calls)] == ["test.fast", "test.slow"]  # never run: due
    now = utcnow()
    job_runs.claim("test.fast", None, now - timedelta(seconds=40))
    job_runs.claim("test.slow", None, now - timedelta(seconds=40))
    assert [j.name for j in jobs.due(calls)] == ["test.fast"]
    job_runs.claim("test.fast", None, now - timedelta(seconds=10))
    assert jobs.due(calls) == []


def test_a_second_worker_does_not_run_a_job_again_within_its_interval(app):
    ran: list[str] = []
    job = jobs.Job("test.once", timedelta(minutes=5), lambda: ran.append("ran"))
    assert jobs.run_job(job) is True
    assert jobs.run_job(job) is False  # another worker (or host) asking a moment later
    assert ran == ["ran"]
    assert jobs.run_job(job, force=True) is True  # an operator's `flask jobs run-once` runs it anyway
    assert ran == ["ran", "ran"]
    row = db.session.get(JobRun, "test.once")
    assert (row.runs, row.failures, row.last_outcome, row.last_host) == (2, 0, "success", job_runs.HOST)
    assert row.last_succeeded_at is not None and row.last_duration_ms is not None


def test_a_failed_run_is_counted_with_its_error_class_only(app):
    def broken() -> None:
        raise RuntimeError("Anna Beispiel, anna@example.org: the message may name people")

    assert jobs.run_job(jobs.Job("test.broken", timedelta(minutes=1), broken)) is False
    row = db.session.get(JobRun, "test.broken")
    assert (row.runs, row.failures, row.last_outcome, row.last_error) == (1, 1, "failure", "RuntimeError")
    assert row.last_succeeded_at is None


def test_a_worker_round_delivers_the_outbox_and_runs_the_due_jobs(app, smtp_server):
    from portal.mail.services import enqueue

    app.config.update(smtp_server.config())
    enqueue("berta@example.org", "Rückmeldung", "accessibility_feedback", message="Der Kalender hakt.")
    db.session.commit()
    ran: list[str] = []
    declared = {"test.round": jobs.Job("test.round", timedelta(minutes=1), lambda: ran.append("ran"))}
    assert jobs.work_round(declared, mail=True, stop=threading.Event()) == ["test.round"]
    assert jobs.work_round(declared, mail=True, stop=threading.Event()) == []  # not due again yet
    assert ran == ["ran"]
    assert len(smtp_server.messages_to("berta@example.org")) == 1


def test_job_runs_are_in_the_metrics(app, client):
    jobs.run_job(jobs.Job("test.metered", timedelta(minutes=1), lambda: None))
    from portal.metrics import JobCollector

    families = {f.name: f for f in JobCollector().collect()}
    samples = {s.name: s for f in families.values() for s in f.samples if s.labels.get("job") == "test.metered"}
    assert samples["stadtportal_job_runs_total"].value == 1
    assert samples["stadtportal_job_failures_total"].value == 0
    assert samples["stadtportal_job_last_success_timestamp_seconds"].value > 0


def test_the_audit_jobs_run_where_the_signing_key_is(app_config, tmp_path):
    from portal import create_app
    from portal.audit import checkpoints

    key = tmp_path / "audit-key.pem"
    without = create_app({**app_config, "AUDIT_SIGNING_KEY_FILE": str(key)}, env="test")
    assert "audit.checkpoint" not in jobs.declared_jobs(without)
    checkpoints.generate_key_file(key)
    app = create_app({**app_config, "AUDIT_SIGNING_KEY_FILE": str(key)}, env="test")
    declared = jobs.declared_jobs(app)
    with app.app_context():
        assert jobs.run_job(declared["audit.checkpoint"]) is True
        assert jobs.run_job(declared["audit.verify"]) is True
        assert db.session.get(JobRun, "audit.verify").last_outcome == "success"
        db.session.remove()
        db.engine.dispose()


def test_run_once_runs_a_job_and_a_failing_job_exits_1_without_stopping_the_others(app, runner):
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("database restarted")

    jobs.declare_job(app, jobs.Job("test.broken", timedelta(minutes=1), broken))
    jobs.declare_job(app, jobs.Job("test.fine", timedelta(minutes=1), lambda: ran.append("fine")))
    result = runner.invoke(args=["jobs", "run-once", "test.broken", "test.fine"])
    assert result.exit_code == 1
    assert ran == ["fine"]
    assert runner.invoke(args=["jobs", "run-once", "test.fine"]).exit_code == 0
    assert "unknown job" in runner.invoke(args=["jobs", "run-once", "test.nope"]).output


def test_a_job_cannot_be_declared_to_run_every_second(app):
    with pytest.raises(ValueError, match="more often"):
        jobs.declare_job(app, jobs.Job("test.busy", timedelta(seconds=1), lambda: None))


@pytest.mark.skipif(BACKEND != "postgresql", reason="advisory locks are PostgreSQL's; SQLite has one writer anyway")
def test_a_job_running_on_another_host_is_skipped_here(app):
    ran: list[str] = []
    job = jobs.Job("test.exclusive", timedelta(minutes=1), lambda: ran.append("ran"))
    with db.engine.connect() as elsewhere:
        elsewhere.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": jobs._lock_key(job.name)})
        assert jobs.run_job(job) is False
        elsewhere.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": jobs._lock_key(job.name)})
        elsewhere.commit()
    assert jobs.run_job(job) is True
    assert ran == ["ran"]
