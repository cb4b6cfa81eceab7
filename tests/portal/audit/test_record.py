"""audit.record writes inside the caller's transaction, refuses undeclared actions, and masks secrets."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.audit.chain import GENESIS_HASH, hash_of
from portal.audit.models import AuditEvent
from portal.departments.models import Department
from portal.extensions import db
from portal.transaction import transaction


def _events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)))


def test_event_commits_with_the_change_it_describes(app):
    with transaction():
        department = Department(slug="ordnungsamt", name="Ordnungsamt")
        db.session.add(department)
        audit.record("department.saved", SYSTEM, target=department, name=department.name)

    [event] = _events()
    assert (event.seq, event.prev_hash) == (1, GENESIS_HASH)
    assert (event.target_type, event.target_id) == ("department", str(department.id))
    assert event.hash == hash_of(event)


def test_rollback_of_the_use_case_leaves_no_event(app):
    with pytest.raises(RuntimeError), transaction():
        department = Department(slug="ordnungsamt", name="Ordnungsamt")
        db.session.add(department)
        audit.record("department.saved", SYSTEM, target=department, name=department.name)
        raise RuntimeError("the use case failed after auditing")

    assert _events() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 0


def test_next_event_after_a_rollback_continues_the_chain_without_a_gap(app):
    with transaction():
        audit.record("account.logout", SYSTEM)
    with pytest.raises(RuntimeError), transaction():
        audit.record("account.logout", SYSTEM)
        raise RuntimeError("rolled back")
    with transaction():
        audit.record("account.logout", SYSTEM)

    first, second = _events()
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash


def test_undeclared_action_is_refused(app):
    with pytest.raises(KeyError, match=r"undeclared audit action 'account\.teleported'"), transaction():
        audit.record("account.teleported", SYSTEM)
    assert _events() == []


def test_missing_detail_key_is_refused(app):
    with pytest.raises(ValueError, match=r"missing detail keys \['method'\]"), transaction():
        audit.record("account.login", SYSTEM)
    assert _events() == []


def test_secrets_never_reach_the_trail_whatever_their_key_is_called(app):
    with transaction():
        audit.record(
            "account.login",
            SYSTEM,
            method="password",
            password="hunter2",
            api_token="abc",
            request={"Authorization": "Bearer xyz", "totp_code": "123456", "path": "/anmelden"},
        )

    [event] = _events()
    details = json.loads(event.details)
    assert details == {
        "api_token": "***",
        "method": "password",
        "password": "***",
        "request": {"Authorization": "***", "path": "/anmelden", "totp_code": "***"},
    }
    for secret in ("hunter2", "abc", "xyz", "123456"):
        assert secret not in event.details


def test_a_prepared_event_is_written_by_its_caller_and_then_chained_like_a_recorded_one(app):
    from portal.audit import sequencer

    with transaction():
        pending = audit.prepare("department.saved", SYSTEM, target_type="department", target_id=7, name="Bauamt")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(sequencer.PENDING)) == 0
        db.session.connection().execute(sequencer.INSERT_PENDING, pending.row)
        prepared = audit.queued(pending)
    with transaction():
        recorded = audit.record("department.saved", SYSTEM, target_type="department", target_id=7, name="Bauamt")

    first, second = _events()
    assert (first.event_key, second.event_key) == (prepared.event_key, recorded.event_key)
    assert first.occurred_at == prepared.occurred_at
    columns = ("actor_type", "actor_id", "action", "target_type", "target_id", "details", "outcome")
    assert [getattr(first, c) for c in columns] == [getattr(second, c) for c in columns]
    assert second.prev_hash == first.hash == hash_of(first)


def test_prepare_refuses_what_record_refuses(app):
    with pytest.raises(ValueError, match="must be a non-empty string"):
        audit.prepare("account.logout", SYSTEM, purpose="  ")
