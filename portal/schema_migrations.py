"""Alembic through Flask-Migrate, set up only where migrations run: `flask db …`, and tests or benchmarks that call
`flask_migrate.upgrade` (after `init_migrations`). A web worker never migrates, and Alembic with Mako and Pygments
would be several MB of every worker's memory.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from portal.config import INSTANCE_DIR

DIRECTORY = str(INSTANCE_DIR.parent / "migrations")


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations name plain SQLAlchemy types, so they never import application code."""
    from portal.models_base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def init_migrations(app: Flask) -> None:
    """Bind Flask-Migrate to `app` (idempotent); its `db` command group replaces the lazy one."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    from portal.extensions import db

    Migrate(render_as_batch=True, compare_type=True, render_item=_render_item).init_app(app, db, directory=DIRECTORY)


class MigrationCommands(click.Group):
    """`flask db`: Flask-Migrate's command group, loaded when it is invoked. Its options (--directory, -x) and its
    callback belong to the real group, so parsing and invoking are handed to it; `flask --help` only reads the
    help text below."""

    def __init__(self, app: Flask) -> None:
        super().__init__("db", help="Perform database migrations (Alembic, through Flask-Migrate).")
        self.app = app

    def _commands(self) -> click.Group:
        init_migrations(self.app)
        from flask_migrate.cli import db as commands

        return commands

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        return self._commands().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self._commands().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Any:
        return self._commands().get_command(ctx, cmd_name)
