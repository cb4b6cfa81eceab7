"""Periodic jobs that services declare, and the worker that runs them with the mail outbox: `flask worker`.

A service declares what must happen regularly in its `register(app)`:

    declare_job(app, Job("payments.sweep", timedelta(minutes=3), sweep, "payments"))

and an operator runs one worker process per host (`flask worker`: the outbox every few seconds, each job at
its interval) instead of a cron line per job; cron or a systemd timer can still call `flask jobs run-once
NAME` (and `flask outbox run` stays for a separate mail process). Every job must be safe to run twice and to
run late: it reads the state from the database each time. A job is due when its interval has passed since
its last start on any host (portal.job_runs keeps the starts in the database), so several workers run each
job once per interval between them; on PostgreSQL each run also holds an advisory lock named after the job,
so two workers never run the same job at the same moment (the second skips it).
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

from portal import job_runs
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


def run_job(job: Job, *, force: bool = False) -> bool:
    """Run one job now if it is due (always with `force`), unless another worker is running it (PostgreSQL).

    True if it ran and did not fail.
    """
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return _claim_and_run(job, force)
    key = _lock_key(job.name)
    # The lock lives on a connection of its own, so the job's commits and rollbacks cannot release it.
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            log.info("job %s is running elsewhere; skipped", job.name, extra={"job": job.name, "outcome": "skipped"})
            return False
        try:
            return _claim_and_run(job, force)
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _claim_and_run(job: Job, force: bool) -> bool:
    try:
        claimed = job_runs.claim(job.name, None if force else job.every)
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.exception("job %s: could not record its start; not run", job.name)
        return False
    finally:
        db.session.remove()
    if not claimed:
        log.info("job %s ran elsewhere within its interval; skipped", job.name, extra={"job": job.name})
        return False
    return _run(job)


def _run(job: Job) -> bool:
    started = time.monotonic()
    error: BaseException | None = None
    result: Any = None
    try:
        result = job.run()
    except Exception as exc:
        # A worker must outlive one bad run (a database restart, a provider outage); the next round tries again.
        db.session.rollback()
        log.exception("job %s failed", job.name, extra={"job": job.name, "outcome": "failure"})
        error = exc
    finally:
        db.session.remove()
    duration_ms = int((time.monotonic() - started) * 1000)
    try:
        job_runs.finish(job.name, ok=error is None, duration_ms=duration_ms, error=error)
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.exception("job %s: could not record its end", job.name)
    finally:
        db.session.remove()
    if error is None:
        log.info(
            "job %s done in %.2f s: %s",
            job.name,
            duration_ms / 1000,
            result,
            extra={"job": job.name, "outcome": "success", "duration_ms": duration_ms, "result": str(result)[:200]},
        )
    return error is None


def due(jobs: dict[str, Job]) -> list[Job]:
    """The jobs whose interval has passed since their last start on any host (never started: due)."""
    names = job_runs.due_names((name, job.every) for name, job in jobs.items())
    return [jobs[name] for name in names]


jobs_cli = AppGroup("jobs", help="Periodic jobs the running services declare.")


@jobs_cli.command("list")
def list_command() -> None:
    """The declared jobs, how often each runs, and when it last ran (on any host)."""
    runs = {r["name"]: r for r in job_runs.all_runs()}
    for job in declared_jobs().values():
        run = runs.get(job.name)
        last = "never run"
        if run is not None and run["last_started_at"] is not None:
            last = f"last {run['last_outcome'] or 'running'} {run['last_started_at']:%Y-%m-%d %H:%M:%S} UTC"
            last += f" on {run['last_host']} ({run['runs']} runs, {run['failures']} failed)"
        click.echo(f"{job.name}\tevery {int(job.every.total_seconds())} s\t[{job.service}]\t{last}")


@jobs_cli.command("run-once")
@click.argument("names", nargs=-1)
def run_once_command(names: tuple[str, ...]) -> None:
    """Run the named jobs (all without names) once now, due or not; exit 1 if one failed."""
    jobs = declared_jobs()
    unknown = [n for n in names if n not in jobs]
    if unknown:
        raise click.ClickException(f"unknown job(s): {', '.join(unknown)}; see `flask jobs list`")
    failed = [name for name in (names or tuple(jobs)) if not run_job(jobs[name], force=True)]
    if failed:
        click.echo(f"failed or skipped: {', '.join(failed)}", err=True)
        raise SystemExit(1)


@jobs_cli.command("run")
@click.option("--tick", default=5.0, show_default=True, help="Seconds between looks at what is due.")
def run_command(tick: float) -> None:
    """The jobs alone, without the outbox (for a separate `flask outbox run`); see `flask worker`."""
    work(tick, mail=False)


@click.command("worker")
@click.option("--tick", default=5.0, show_default=True, help="Seconds between rounds (outbox, then due jobs).")
@click.option("--no-mail", is_flag=True, help="Leave the outbox to a separate `flask outbox run`.")
def worker_command(tick: float, no_mail: bool) -> None:
    """The background worker: delivers the outbox and runs every declared job at its interval, until SIGTERM
    or Ctrl+C (the message or job in progress is finished first). Safe to run on several hosts at once."""
    work(tick, mail=not no_mail)


def work(tick: float, *, mail: bool) -> None:
    from portal.audit import sequencer
    from portal.mail.delivery import mail_configured

    stop = threading.Event()

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    jobs = declared_jobs()
    if mail and not mail_configured():
        click.echo("MAIL_SERVER is not set: the outbox is not delivered (messages wait at /admin/postausgang).")
        mail = False
    click.echo(f"Worker started: {'outbox, ' if mail else ''}{', '.join(jobs) or 'no jobs declared'}.")
    poller = sequencer.start_queue_poller(current_app._get_current_object())  # type: ignore[attr-defined]
    if poller is not None:
        click.echo(f"Audit events are chained here: the queue is looked at every {poller.every:g} s.")
    try:
        while not stop.is_set():
            work_round(jobs, mail=mail, stop=stop)
            stop.wait(tick)
    finally:
        if poller is not None:
            poller.stop.set()
            poller.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Worker stopped.")


def work_round(jobs: dict[str, Job], *, mail: bool, stop: threading.Event) -> list[str]:
    """One round of the worker: the outbox (if `mail`), then every due job; the jobs that ran and succeeded."""
    if mail:
        _deliver_outbox(stop)
    try:
        waiting = due(jobs)
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.exception("worker: could not read which jobs are due")
        return []
    finally:
        db.session.remove()
    ran = []
    for job in waiting:
        if stop.is_set():
            break
        if run_job(job):
            ran.append(job.name)
    return ran


def _deliver_outbox(stop: threading.Event) -> None:
    from portal.mail.delivery import deliver_pending

    started = time.monotonic()
    try:
        report = deliver_pending(stop=stop)
    except Exception:
        # A worker must outlive a database restart or an SMTP outage; the next round tries again.
        db.session.rollback()
        log.exception("worker: outbox delivery round failed", extra={"job": "outbox", "outcome": "failure"})
        return
    finally:
        db.session.remove()
    if report.connection_error is not None:
        log.warning("outbox: the SMTP server could not be reached: %s", report.connection_error)
    if report.attempted or report.reclaimed:
        log.info(
            "outbox: %d sent, %d rescheduled, %d failed",
            report.sent,
            report.retried,
            report.failed,
            extra={"job": "outbox", "outcome": "success", "duration_ms": int((time.monotonic() - started) * 1000)},
        )


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)
    app.cli.add_command(worker_command)
