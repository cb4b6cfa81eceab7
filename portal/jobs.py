"""Periodic jobs that services declare, and the worker that runs them: `flask jobs run`.

A service declares what must happen regularly in its `register(app)`:

    declare_job(app, Job("payments.sweep", timedelta(minutes=3), sweep, "payments"))

and an operator runs one worker process (`flask jobs run`) instead of a cron line per job; cron or a systemd
timer can still call `flask jobs run-once NAME`. Every job must be safe to run twice and to run late: it
reads the state from the database each time. On PostgreSQL each run holds an advisory lock named after the
job, so two workers on two hosts never run the same job at the same moment (the second skips it).
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.extensions import db

log = logging.getLogger(__name__)
JOBS_KEY = "stadtportal_jobs"


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], Any]  # its return value is logged (a count, a report)
    service: str = "portal"


def declare_job(app: Flask, job: Job) -> None:
    jobs: dict[str, Job] = app.extensions.setdefault(JOBS_KEY, {})
    if job.name in jobs and jobs[job.name].run is not job.run:
        raise ValueError(f"job {job.name!r} is declared twice")
    if job.every < timedelta(seconds=10):
        raise ValueError(f"job {job.name!r} would run more often than every 10 seconds")
    jobs[job.name] = job


def declared_jobs(app: Flask | None = None) -> dict[str, Job]:
    return dict((app or current_app).extensions.get(JOBS_KEY, {}))


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"stadtportal-job:{name}".encode()).digest()[:8], "big", signed=True)


def run_job(job: Job) -> bool:
    """Run one job now, unless another worker is running it (PostgreSQL); True if it ran and did not fail."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return _run(job)
    key = _lock_key(job.name)
    # The lock lives on a connection of its own, so the job's commits and rollbacks cannot release it.
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            log.info("job %s is running elsewhere; skipped", job.name)
            return False
        try:
            return _run(job)
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _run(job: Job) -> bool:
    started = time.monotonic()
    try:
        result = job.run()
    except Exception:
        # A worker must outlive one bad run (a database restart, a provider outage); the next round tries again.
        db.session.rollback()
        log.exception("job %s failed", job.name)
        return False
    finally:
        db.session.remove()
    log.info("job %s done in %.2f s: %s", job.name, time.monotonic() - started, result, extra={"job": job.name})
    return True


def due(jobs: dict[str, Job], last_run: dict[str, float], now: float) -> list[Job]:
    """The jobs whose interval has passed since their last run (all of them at the worker's start)."""
    return [job for name, job in sorted(jobs.items()) if now - last_run.get(name, -1e18) >= job.every.total_seconds()]


jobs_cli = AppGroup("jobs", help="Periodic jobs the running services declare.")


@jobs_cli.command("list")
def list_command() -> None:
    """The declared jobs and how often each runs."""
    for job in declared_jobs().values():
        click.echo(f"{job.name}\tevery {int(job.every.total_seconds())} s\t[{job.service}]")


@jobs_cli.command("run-once")
@click.argument("names", nargs=-1)
def run_once_command(names: tuple[str, ...]) -> None:
    """Run the named jobs (all without names) once now; exit 1 if one failed."""
    jobs = declared_jobs()
    unknown = [n for n in names if n not in jobs]
    if unknown:
        raise click.ClickException(f"unknown job(s): {', '.join(unknown)}; see `flask jobs list`")
    failed = [name for name in (names or tuple(jobs)) if not run_job(jobs[name])]
    if failed:
        click.echo(f"failed or skipped: {', '.join(failed)}", err=True)
        raise SystemExit(1)


@jobs_cli.command("run")
@click.option("--tick", default=5.0, show_default=True, help="Seconds between looks at what is due.")
def run_command(tick: float) -> None:
    """The worker: run each job at its interval until SIGTERM or Ctrl+C (a running job is finished first)."""
    stop = threading.Event()

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    jobs = declared_jobs()
    last_run: dict[str, float] = {}
    click.echo(f"Worker started: {', '.join(jobs) or 'no jobs declared'}.")
    try:
        while not stop.is_set():
            for job in due(jobs, last_run, time.monotonic()):
                if stop.is_set():
                    break
                run_job(job)
                last_run[job.name] = time.monotonic()
            stop.wait(tick)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Worker stopped.")


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
