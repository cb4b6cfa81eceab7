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


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
