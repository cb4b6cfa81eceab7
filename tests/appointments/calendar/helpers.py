"""Signed-in test clients and audit look-ups for the calendar and configuration tests."""

from __future__ import annotations

import hashlib
import json
import secrets

import sqlalchemy as sa

from portal.accounts.models import User, UserSession
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import csrf_from


def sign_in(client, user: User):
    """As if the person had signed in with password and second factor (tested in tests/portal/accounts)."""
    raw = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(token_hash=hashlib.sha256(raw.encode()).hexdigest(), user_id=user.id, method="password+totp")
    )
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = raw
        session["_fresh"] = True
    return client


def post_form(client, url: str, data: dict, page: str | None = None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def audit_events(action: str) -> list[dict]:
    db.session.expire_all()
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [json.loads(event.details) for event in events]
