"""A token's use is stamped and audited once a minute, not on every request; a refused use every time."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.accounts import tokens
from portal.accounts.models import ApiToken
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import as_utc, utcnow


def _token(*scopes: str) -> tuple[int, dict[str, str]]:
    token, raw = create_token(SYSTEM, "SIEM", list(scopes))
    return token.id, {"Authorization": f"Bearer {raw}"}


def _uses() -> list[tuple[str, str]]:
    db.session.rollback()  # see what the requests committed
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "token.used").order_by(AuditEvent.seq))
    return [(event.outcome, event.actor_id) for event in events]


def _last_used(token_id: int):
    db.session.rollback()
    return db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == token_id))


def test_requests_within_a_minute_are_one_recorded_use(client):
    token_id, headers = _token("audit")

    for _ in range(3):
        assert client.get("/api/v1/audit/events", headers=headers).status_code == 200

    assert _uses() == [("success", f"token:{token_id}")]
    assert utcnow() - as_utc(_last_used(token_id)) < timedelta(seconds=30)


def test_a_request_a_minute_after_the_last_recorded_use_is_recorded_again(client, monkeypatch):
    token_id, headers = _token("audit")
    client.get("/api/v1/audit/events", headers=headers)
    a_while_ago = utcnow() - timedelta(seconds=61)
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=a_while_ago))
    db.session.commit()
    # A minute on, the worker no longer keeps the token it looked up (tokens.KEPT_FOR): it reads the row again.
    a_minute_on = tokens._clock() + 61
    monkeypatch.setattr(tokens, "_clock", lambda: a_minute_on)

    client.get("/api/v1/audit/events", headers=headers)
    client.get("/api/v1/audit/events", headers=headers)

    assert _uses() == [("success", f"token:{token_id}")] * 2
    assert as_utc(_last_used(token_id)) > a_while_ago + timedelta(seconds=30)


def test_a_request_within_the_minute_leaves_last_used_as_it_was(client):
    token_id, headers = _token("audit")
    client.get("/api/v1/audit/events", headers=headers)
    first = _last_used(token_id)

    client.get("/api/v1/audit/events", headers=headers)

    assert _last_used(token_id) == first


def test_every_request_refused_for_a_missing_scope_is_audited(client):
    token_id, headers = _token("metrics")

    for _ in range(2):
        assert client.get("/api/v1/audit/events", headers=headers).status_code == 403

    assert _uses() == [("denied", f"token:{token_id}")] * 2
