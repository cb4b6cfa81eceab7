"""On PostgreSQL a granted (or refused) access writes its audit event's queue row and its log row in one statement
(a data-modifying CTE): the same rows as the two statements it replaced, and neither if it fails."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from dataaccess.models import AccessLog
from dataaccess.services import access
from portal.actors import Actor
from portal.audit import services as audit
from portal.audit.models import AuditEvent, AuditPending
from portal.extensions import db
from tests.dataaccess.builders import World, approved_agreement, log_rows

pytestmark = pytest.mark.skipif(
    os.environ.get("STADTPORTAL_TEST_DB", "sqlite") != "postgresql",
    reason="a data-modifying CTE is PostgreSQL's; SQLite writes the two rows as before",
)

CASE = "VA-2026-0815"


@pytest.fixture
def queued_until_the_worker(app):
    """The queue rows stay in audit_pending after the commit, as the access wrote them."""
    app.config["AUDIT_SEQUENCE_AFTER_COMMIT"] = "worker"
    return app


@pytest.fixture
def statements(app):
    sent: list[str] = []

    def remember(conn, cursor, statement, *args):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", remember)
    yield sent
    sa.event.remove(db.engine, "before_cursor_execute", remember)


def _read(world: World, agreement: str) -> access.AccessResult:
    return access.read(
        Actor.for_user(world.official), agreement, world.purpose.code, CASE, world.citizen.id, ["aktenzeichen"]
    )


def _writes(statements: list[str]) -> list[str]:
    """The statements that wrote the queue row or the log row."""
    return [s for s in statements if "INSERT INTO audit_pending" in s or "INSERT INTO dataaccess_access_log" in s]


def _pending_row(event_key: str) -> dict[str, Any]:
    row = db.session.execute(sa.select(AuditPending.__table__).where(AuditPending.event_key == event_key)).one()
    return dict(row._mapping)


def _log_row(log_id: int) -> dict[str, Any]:
    return dict(db.session.execute(sa.select(AccessLog.__table__).where(AccessLog.id == log_id)).one()._mapping)


def _counts() -> tuple[int, int, int]:
    def count(model: Any) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    return count(AuditEvent), count(AuditPending), count(AccessLog)


def test_the_one_statement_writes_the_same_queue_row_and_log_row_as_the_two_statements(
    world, queued_until_the_worker, statements, monkeypatch
):
    agreement = approved_agreement(world)

    statements.clear()
    one = _read(world, agreement.reference)
    [written] = _writes(statements)
    assert written.startswith("WITH queued AS") and "INSERT INTO audit_pending" in written

    monkeypatch.setattr(access.audit, "writes_in_one_statement", lambda: False)
    statements.clear()
    two = _read(world, agreement.reference)
    assert len(_writes(statements)) == 2

    pending_one, pending_two = _pending_row(one.audit_event), _pending_row(two.audit_event)
    log_one, log_two = _log_row(one.log_id), _log_row(two.log_id)
    assert (pending_one["occurred_at"], log_one["occurred_at"]) == (one.accessed_at, one.accessed_at)
    assert log_one["audit_event_key"] == one.audit_event
    assert pending_one["details"] == pending_two["details"]  # the canonical JSON the hash is taken over

    def without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in keys}

    assert without(pending_one, "id", "event_key", "occurred_at") == without(
        pending_two, "id", "event_key", "occurred_at"
    )
    assert without(log_one, "id", "audit_event_key", "occurred_at") == without(
        log_two, "id", "audit_event_key", "occurred_at"
    )


def test_the_one_statement_queues_the_event_for_the_sequencer(app, world, statements):
    agreement = approved_agreement(world)

    result = _read(world, agreement.reference)  # the test settings chain right after the commit

    assert result.audit_seq() is not None
    assert _counts()[1] == 0


def test_when_the_queue_row_fails_neither_row_is_written_and_nothing_is_returned(world, monkeypatch):
    agreement = approved_agreement(world)
    before = _counts()
    real_prepare = audit.prepare

    def too_long_actor_type(*args: Any, **kwargs: Any) -> audit.PendingEvent:
        pending = real_prepare(*args, **kwargs)
        return replace(pending, row={**pending.row, "actor_type": "x" * 17})  # audit_pending.actor_type: 16

    monkeypatch.setattr(access.audit, "prepare", too_long_actor_type)
    returned = []
    with pytest.raises(sa.exc.DataError):
        returned.append(_read(world, agreement.reference))

    assert returned == []
    assert _counts() == before
    assert log_rows() == []


def test_when_the_log_row_fails_the_queue_row_is_not_written_either_and_nothing_is_returned(world, monkeypatch):
    agreement = approved_agreement(world)
    taken = _read(world, agreement.reference).audit_event  # chained: its key is in the log, not in the queue
    before = _counts()
    real_prepare = audit.prepare

    def key_the_log_has_already(*args: Any, **kwargs: Any) -> audit.PendingEvent:
        pending = real_prepare(*args, **kwargs)
        return audit.PendingEvent({**pending.row, "event_key": taken}, replace(pending.event, event_key=taken))

    monkeypatch.setattr(access.audit, "prepare", key_the_log_has_already)
    returned = []
    with pytest.raises(sa.exc.IntegrityError, match="audit_event_key"):
        returned.append(_read(world, agreement.reference))

    assert returned == []
    assert _counts() == before
    assert [row.audit_event_key for row in log_rows()] == [taken]
