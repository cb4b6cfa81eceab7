"""The stored_file table the migrations build is the one the model describes (on SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_migration_0007_matches_the_stored_file_model(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)

    def concerns_stored_file(diff) -> bool:
        text = repr(diff)
        return "stored_file" in text

    flat = [d for group in differences for d in (group if isinstance(group, list) else [group])]
    assert [d for d in flat if concerns_stored_file(d)] == []
