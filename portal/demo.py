"""`flask demo load`: demo departments, locations and one account per role. Idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data for the embedded development setup.")

DEMO_HOOKS_KEY = "stadtportal_demo_hooks"


def add_demo_hook(app: Flask, hook: Callable[..., Any]) -> None:
    """A service's (or core part's) share of `flask demo load`, run after the core's, for this app only.

    Kept per app, not per process: a test app without payments must not run payments' hook.
    """
    hooks: list = app.extensions.setdefault(DEMO_HOOKS_KEY, [])
    if hook not in hooks:
        hooks.append(hook)


@demo_cli.command("load")
def load() -> None:
    """Load the demo data; running it twice changes nothing."""
    from portal.demo_data import load_core

    load_core(echo=click.echo)
    for hook in current_app.extensions.get(DEMO_HOOKS_KEY, []):
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
