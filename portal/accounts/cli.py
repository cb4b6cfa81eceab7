"""`flask tokens ...`: API tokens for operators (create prints the token once, list, revoke)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.accounts import tokens
from portal.actors import SYSTEM
from portal.timeutil import to_berlin

tokens_cli = AppGroup("tokens", help="API tokens for machine clients and staff.")


@tokens_cli.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. 'SIEM'.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="A scope the token may use (audit, metrics, or one a running service declares); repeat for several.",
)
@click.option("--user", "user_email", default=None, help="Email of the staff member the token acts as.")
@click.option("--days", default=tokens.DEFAULT_DAYS, show_default=True, type=int, help="Days until it expires.")
def create(name: str, scopes: tuple[str, ...], user_email: str | None, days: int) -> None:
    """Create a token and print it once: it is stored only as a hash."""
    try:
        token, raw = tokens.create_token(SYSTEM, name, scopes, user=user_email, expires_in_days=days)
    except tokens.TokenError as error:
        raise click.ClickException(_text(error)) from None
    click.echo(f"Token {token.id} ({token.name}), scopes {token.scopes}, expires {_when(token.expires_at)}.")
    click.echo("Copy it now; it cannot be shown again:")
    click.echo(raw)


@tokens_cli.command("list")
def list_() -> None:
    """List every token with its state (the secret itself is never shown)."""
    rows = tokens.list_tokens(SYSTEM)
    if not rows:
        click.echo("No tokens.")
        return
    for token in rows:
        owner = token.user.email if token.user else "machine"
        click.echo(
            f"{token.id}\t{token.prefix}…\t{token.name}\t{token.scopes}\t{owner}\t"
            f"{tokens.token_state(token)}\texpires {_when(token.expires_at)}\tlast used {_when(token.last_used_at)}"
        )


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke a token at once."""
    try:
        token = tokens.revoke_token(SYSTEM, token_id)
    except tokens.TokenError as error:
        raise click.ClickException(_text(error)) from None
    click.echo(f"Token {token.id} ({token.name}) revoked.")


def _text(error: tokens.TokenError) -> str:
    # Messages are lazy translations; a command has no request to pick a language from.
    with force_locale("de"):
        return str(error.message)


def _when(value) -> str:  # type: ignore[no-untyped-def]
    return to_berlin(value).strftime("%Y-%m-%d %H:%M %Z") if value else "never"


def init_app(app: Flask) -> None:
    app.cli.add_command(tokens_cli)
