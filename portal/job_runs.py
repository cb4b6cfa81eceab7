"""When each periodic job last ran, kept in the database so that every worker on every host agrees.

A job is due when its interval has passed since its last start anywhere (not since this worker's last run):
two workers on two hosts therefore run each job once per interval between them, not once each. The rows also
tell operators (and /metrics) when a job last succeeded, how often it failed, and where it last ran.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model, db
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow

HOST = socket.gethostname()[:100]


class JobRun(Model):
    """One row per declared job: its last run and its counts. Operational bookkeeping, not an audited fact."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(sa.String(16))  # success, failure
    last_duration_ms: Mapped[int | None] = mapped_column(sa.Integer)
    # The exception's class only: its message may carry personal data, and the log has the traceback.
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    last_host: Mapped[str | None] = mapped_column(sa.String(100))
    runs: Mapped[int] = mapped_column(sa.Integer, default=0)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.CheckConstraint("last_outcome in ('success', 'failure')", name="last_outcome"),)


def due_names(jobs: Iterable[tuple[str, timedelta]], now: datetime | None = None) -> list[str]:
    """Of (name, interval) pairs, the names whose interval has passed since their last start (or never ran)."""
    now = now or utcnow()
    wanted = dict(jobs)
    rows = db.session.execute(sa.select(JobRun.name, JobRun.last_started_at).where(JobRun.name.in_(wanted)))
    started = {row[0]: row[1] for row in rows}
    db.session.rollback()  # end the read: the worker holds no transaction while it waits
    due = []
    for name, every in wanted.items():
        last = started.get(name)
        if last is None or now - last >= every:
            due.append(name)
    return sorted(due)


def claim(name: str, every: timedelta | None, now: datetime | None = None) -> bool:
    """Record a start of `name` unless one was recorded less than `every` ago (None: start anyway). Commits.

    Called under the job's advisory lock on PostgreSQL, so two workers cannot both claim; the row lock makes it
    safe without one, too.
    """
    now = now or utcnow()
    row = db.session.get(JobRun, name, with_for_update=True)
    if row is None:
        row = JobRun(name=name, runs=0, failures=0)
        db.session.add(row)
    elif every is not None and row.last_started_at is not None and now - row.last_started_at < every:
        db.session.rollback()
        return False
    row.last_started_at = now
    row.last_host = HOST
    db.session.commit()
    return True


def finish(name: str, *, ok: bool, duration_ms: int, error: BaseException | None = None) -> None:
    """Record the end of a run claimed before. Commits; a failure to record is logged by the caller."""
    row = db.session.get(JobRun, name, with_for_update=True)
    if row is None:  # the row was claimed; only a manual DELETE removes it
        row = JobRun(name=name, runs=0, failures=0)
        db.session.add(row)
    now = utcnow()
    row.last_finished_at = now
    row.last_duration_ms = duration_ms
    row.runs = (row.runs or 0) + 1
    if ok:
        row.last_outcome, row.last_succeeded_at, row.last_error = "success", now, None
    else:
        row.last_outcome, row.failures = "failure", (row.failures or 0) + 1
        row.last_error = type(error).__name__[:200] if error is not None else None
    db.session.commit()


def all_runs() -> list[dict[str, Any]]:
    """Every job's row as plain values (for /metrics and `flask jobs list`)."""
    rows = db.session.scalars(sa.select(JobRun).order_by(JobRun.name)).all()
    return [
        {
            "name": r.name,
            "last_started_at": r.last_started_at,
            "last_succeeded_at": r.last_succeeded_at,
            "last_outcome": r.last_outcome,
            "last_duration_ms": r.last_duration_ms,
            "last_host": r.last_host,
            "runs": r.runs or 0,
            "failures": r.failures or 0,
        }
        for r in rows
    ]
