"""`flask demo load`: demo departments, locations and one account per role. Idempotent."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data for the embedded development setup.")

# Services add their demo data through this list (see each service's register(app)).
DEMO_HOOKS: list = []


@demo_cli.command("load")
def load() -> None:
    """Load the demo data; running it twice changes nothing."""
    from portal.demo_data import load_core

    load_core(echo=click.echo)
    for hook in DEMO_HOOKS:
        hook(echo=click.echo)
    click.echo("Demo data loaded.")


@demo_cli.command("totp")
@click.argument("email")
def totp(email: str) -> None:
    """Print the current two-factor code of a demo staff account (all share the README's secret)."""
    from portal.demo_data import current_totp_code

    click.echo(current_totp_code(email))


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
