"""The data-access tables the migrations build are the ones the models describe (on SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_the_migrations_match_the_dataaccess_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)

    flat = [d for group in differences for d in (group if isinstance(group, list) else [group])]
    assert [d for d in flat if "dataaccess_" in repr(d)] == []
    assert "dataaccess_rate_counter" in db.metadata.tables
