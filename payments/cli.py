"""`flask payments ...`: operator commands for the payments service."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

payments_cli = AppGroup("payments", help="Bezahlen: Wartung und Hintergrundaufgaben.")


@payments_cli.command("sweep")
@click.option(
    "--stale-minutes",
    type=click.IntRange(min=0),
    default=None,
    help="Versuche erst nach so vielen Minuten ohne Antwort nachfragen (Standard: 2).",
)
def sweep_command(stale_minutes: int | None) -> None:
    """Unfertige Zahlungen beim Zahlungsdienst nachfragen und verpasste Ereignisse nachholen; alle paar Minuten."""
    from datetime import timedelta

    from payments.services.sweeper import STALE_AFTER, sweep

    report = sweep(stale_after=STALE_AFTER if stale_minutes is None else timedelta(minutes=stale_minutes))
    click.echo(f"payments sweep: {report}")
    if report.errors:
        raise SystemExit(1)


def declare_jobs(app: Flask) -> None:
    """The sweeper runs in the worker (`flask worker`) every three minutes."""
    from datetime import timedelta

    from payments.services.sweeper import sweep
    from portal.jobs import Job, declare_job

    declare_job(app, Job("payments.sweep", timedelta(minutes=3), sweep, "payments"))
