"""The database itself refuses to change or remove audit events, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.extensions import db
from tests.portal.audit.helpers import record_events


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET outcome = 'failure' WHERE seq = 1", "DELETE FROM audit_event WHERE seq = 1"],
    ids=["update", "delete"],
)
def test_database_refuses_to_change_or_delete_an_event(app, statement):
    record_events(2)

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 2
    assert db.session.get(AuditEvent, 1).outcome == "success"


def test_orm_update_of_an_event_is_refused_too(app):
    record_events(1)
    event = db.session.get(AuditEvent, 1)
    event.action = "account.logout"

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_postgresql_refuses_truncate(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    record_events(1)

    # CASCADE: tables pointing at the trail (the data access log) would otherwise refuse it first.
    with pytest.raises(sa.exc.DBAPIError, match="append-only: TRUNCATE refused"):
        db.session.execute(sa.text("TRUNCATE audit_event CASCADE"))
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 1


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_checkpoint SET hash = 'x'", "DELETE FROM audit_checkpoint"],
    ids=["update", "delete"],
)
def test_database_refuses_to_change_or_delete_a_checkpoint(app, runner, statement):
    record_events(2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0

    with pytest.raises(sa.exc.DBAPIError, match="audit_checkpoint is append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()

    assert db.session.scalar(sa.select(AuditCheckpoint.seq)) == 2


def test_postgresql_refuses_to_truncate_the_checkpoints(app, runner):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0

    with pytest.raises(sa.exc.DBAPIError, match="audit_checkpoint is append-only: TRUNCATE refused"):
        db.session.execute(sa.text("TRUNCATE audit_checkpoint"))
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint)) == 1
