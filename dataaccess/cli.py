"""`flask dataaccess ...`: operator commands of the data-access service."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

dataaccess_cli = AppGroup("dataaccess", help="Datenzugriffe zwischen Ämtern: Fachverfahren anbinden.")


@dataaccess_cli.command("bind-client")
@click.option(
    "--token-id", type=click.IntRange(min=1), required=True, help="Die Nummer des API-Zugangs (flask tokens list)."
)
@click.option(
    "--department", "department_slug", required=True, help="Das Amt (Kurzname), für das das Fachverfahren liest."
)
@click.option("--agreement", default=None, help="Nur diese Vereinbarung (z. B. DZV-2026-000001); sonst alle des Amts.")
def bind_client_command(token_id: int, department_slug: str, agreement: str | None) -> None:
    """Einen API-Zugang mit dem Bereich „dataaccess“ an das Amt (und ggf. eine Vereinbarung) binden, für das er
    liest. Ohne Bindung liest ein Zugang nichts. Ersetzt eine frühere Bindung; wird als System protokolliert."""
    from dataaccess.errors import DataAccessError
    from dataaccess.services.clients import bind_client
    from portal.actors import SYSTEM
    from portal.departments.services import get_department_by_slug

    department = get_department_by_slug(department_slug.strip())
    if department is None:
        raise click.ClickException(f"Kein Amt mit dem Kurznamen {department_slug!r}.")
    try:
        client = bind_client(SYSTEM, token_id, department.id, agreement)
    except DataAccessError as error:
        raise click.ClickException(str(error.message)) from None
    scope = f", nur Vereinbarung {client.agreement_reference}" if client.agreement_reference else ""
    click.echo(f"Zugang {token_id} liest für {department.name} ({department.slug}){scope}.")


@dataaccess_cli.command("purge-records")
def purge_records_command() -> None:
    """Datensätze löschen, deren Aufbewahrungsfrist (je Datenbestand) abgelaufen ist; läuft auch täglich als Job
    „dataaccess.purge_records“. Jede Löschung wird je Datenbestand protokolliert."""
    from dataaccess.services.records import purge_expired_records

    purged = purge_expired_records()
    if not purged:
        click.echo("Keine Datensätze über ihrer Aufbewahrungsfrist.")
    for key, count in purged.items():
        click.echo(f"{key}: {count} gelöscht")


def declare_jobs(app: Flask) -> None:
    """Retention runs in the worker (`flask worker`) once a day."""
    from datetime import timedelta

    from dataaccess.services.records import purge_expired_records
    from portal.jobs import Job, declare_job

    declare_job(app, Job("dataaccess.purge_records", timedelta(days=1), purge_expired_records, "dataaccess"))
