"""0036 keeps a location's free-text hours as its note only where no structured hours exist (there they were the
only information); where structured hours exist they win and the old text, which disagreed, is cleared."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.schema_migrations import init_migrations


def test_free_text_hours_become_a_note_only_where_no_structured_hours_exist(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}"}, env="test")
    init_migrations(app)
    with app.app_context():
        from portal.extensions import db

        upgrade(revision="0035")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO department (id, slug, name, created_at) VALUES (1, 'a', 'A', '2026-01-01')")
            )
            for location_id, text in ((1, "Mo–Fr 8–12 Uhr"), (2, "Nur nach Vereinbarung, Eingang Hof")):
                conn.execute(
                    sa.text(
                        "INSERT INTO location (id, department_id, name, street, postcode, city, opening_hours)"
                        " VALUES (:id, 1, :name, 'S 1', '01067', 'M', :text)"
                    ),
                    {"id": location_id, "name": f"L{location_id}", "text": text},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO appointment_opening_period (location_id, weekday, opens, closes)"
                    " VALUES (1, 0, '08:00:00', '12:00:00')"
                )
            )
        upgrade(revision="0036")
        with db.engine.connect() as conn:
            notes = dict(conn.execute(sa.text("SELECT id, notes FROM location ORDER BY id")).all())
            columns = {c["name"] for c in sa.inspect(conn).get_columns("catalogue_service")}
        assert notes == {1: "", 2: "Nur nach Vereinbarung, Eingang Hof"}
        assert {"name_en", "description_en", "bring", "bring_en", "fee_kind", "fee_cents"} <= columns

        downgrade(revision="0035")
        with db.engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT opening_hours FROM location WHERE id = 2")).scalar_one()
        assert kept == "Nur nach Vereinbarung, Eingang Hof"
        db.engine.dispose()


def test_the_migrations_match_the_catalogue_and_location_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from portal.extensions import db

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    flat = [d for group in differences for d in (group if isinstance(group, list) else [group])]
    touched = [d for d in flat if "'catalogue_service'" in repr(d) or "'location'" in repr(d)]
    assert touched == []
