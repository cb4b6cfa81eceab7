"""The worker runs what services declare, at their intervals; one failing job never stops the others."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import jobs
from portal.extensions import db
from tests.conftest import BACKEND


def test_services_declare_their_jobs(app, runner):
    listed = runner.invoke(args=["jobs", "list"]).output
    assert "appointments.release-expired\tevery 60 s" in listed
    assert "payments.sweep\tevery 180 s" in listed


def test_due_jobs_are_those_whose_interval_has_passed():
    calls = {
        "fast": jobs.Job("fast", timedelta(seconds=30), lambda: None),
        "slow": jobs.Job("slow", timedelta(hours=1), lambda: None),
    }
    assert [j.name for j in jobs.due(calls, {}, 1000.0)] == ["fast", "slow"]  # at the worker's start: everything
    assert [j.name for j in jobs.due(calls, {"fast": 960.0, "slow": 960.0}, 1000.0)] == ["fast"]
    assert jobs.due(calls, {"fast": 990.0, "slow": 990.0}, 1000.0) == []


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
