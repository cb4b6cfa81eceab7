"""The permit tables the migrations build are the ones the models describe (on SQLite and PostgreSQL), and the
database itself refuses a case that breaks the invariants."""

from __future__ import annotations

import secrets
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from permits.models import PermitApplication
from portal.extensions import db


def test_migration_0025_matches_the_permit_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    flat = [d for group in differences for d in (group if isinstance(group, list) else [group])]
    assert [d for d in flat if "permit_" in repr(d)] == []
    assert "permit_application" in db.metadata.tables


@pytest.mark.parametrize(
    "values",
    [
        {"state": "submitted"},  # no reference, no fee
        {"state": "lost"},
        {"starts_on": date(2026, 6, 3), "ends_on": date(2026, 6, 1)},
        {"area_dm2": 0},
    ],
)
def test_the_database_refuses_a_broken_case(app, values):
    db.session.add(PermitApplication(public_id=secrets.token_hex(16), **values))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
