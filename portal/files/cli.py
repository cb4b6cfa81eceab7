"""`flask files check`: does every stored file still exist, unchanged, and is nothing left that should be gone?

Exit codes, for cron jobs and monitoring: 0 all in order; 1 something was found (listed on stdout).
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup

from portal.files import services

files_cli = AppGroup("files", help="Gespeicherte Dateien prüfen.")


@files_cli.command("check")
@click.option("--quick", is_flag=True, help="Nur prüfen, ob die Objekte da sind (ohne Prüfsummen).")
@click.option(
    "--purge",
    is_flag=True,
    help="Inhalte gelöschter Dateien und Objekte ohne Datenbankeintrag (älter als eine Stunde) entfernen.",
)
def check(quick: bool, purge: bool) -> None:
    """Datenbank und Dateispeicher abgleichen."""
    report = services.check_storage(verify_hashes=not quick, orphan_grace=timedelta(hours=1))
    click.echo(f"{report.checked} Dateien geprüft.")
    for file_id in report.missing:
        click.echo(f"  fehlt im Speicher: stored_file {file_id}")
    for file_id in report.corrupt:
        click.echo(f"  Prüfsumme weicht ab: stored_file {file_id}")
    for key in report.erased_left:
        click.echo(f"  gelöscht, Inhalt noch vorhanden: {key}")
    for key in report.orphans:
        click.echo(f"  ohne Datenbankeintrag: {key}")
    if purge and (report.erased_left or report.orphans):
        removed = services.purge(report)
        click.echo(f"{removed} Objekte entfernt.")
        report.erased_left.clear()
        report.orphans.clear()
    if not report.ok:
        raise SystemExit(1)
    click.echo("In Ordnung.")


def init_app(app: Flask) -> None:
    app.cli.add_command(files_cli)
