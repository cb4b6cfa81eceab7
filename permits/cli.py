"""`flask permits ...`: operator commands for the permit service, and its job for the worker."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import Flask
from flask.cli import AppGroup

permits_cli = AppGroup("permits", help="Sondernutzung: Wartung und Hintergrundaufgaben.")


@permits_cli.command("lifecycle")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Stichtag (Standard: heute, Berlin).")
def lifecycle_command(on) -> None:
    """Erlaubnisse ab ihrem ersten Tag in Kraft setzen und nach ihrem letzten Tag beenden."""
    from permits.services import lifecycle

    day: date | None = on.date() if on else None
    click.echo(f"permits lifecycle: {lifecycle.run(day)}")


def _run_lifecycle() -> object:
    from permits.services import lifecycle

    return lifecycle.run()


def declare_jobs(app: Flask) -> None:
    """Hourly, so a permit is in force within the first hour of its day even if a worker was down at midnight."""
    from portal.jobs import Job, declare_job

    declare_job(app, Job("permits.lifecycle", timedelta(hours=1), _run_lifecycle, "permits"))
