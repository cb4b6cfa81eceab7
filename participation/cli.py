"""`flask participation ...`: operator commands for the participation service."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

participation_cli = AppGroup("participation", help="Beteiligung: Wartung und Hintergrundaufgaben.")


@participation_cli.command("detach-authors")
def detach_authors_command() -> None:
    """Beiträge abgeschlossener Verfahren nach PARTICIPATION_DETACH_AFTER_DAYS Tagen von den Konten lösen."""
    from participation.services.detach import detach_authors

    click.echo(f"participation detach-authors: {detach_authors()}")


def declare_jobs(app: Flask) -> None:
    """Detaching runs in the worker (`flask worker`) once a day; a run finds only what has fallen due."""
    from datetime import timedelta

    from participation.services.detach import detach_authors
    from portal.jobs import Job, declare_job

    declare_job(app, Job("participation.detach_authors", timedelta(days=1), detach_authors, "participation"))
