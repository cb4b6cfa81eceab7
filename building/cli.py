"""`flask building connect DZV-…`: set up the portal's own client for the citizen's building-status page."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.actors import SYSTEM

building_cli = AppGroup("building", help="Bauen: the citizen's building-status page.")


@building_cli.command("connect")
@click.argument("agreement")
def connect(agreement: str) -> None:
    """Bind a new portal client token to AGREEMENT (purpose AUSK-BETR, consumer: the portal's department)."""
    from building.setup import connect_portal_client

    client = connect_portal_client(SYSTEM, agreement)
    click.echo(f"Portal client bound to {client.agreement_reference} (token {client.token_id}).")
