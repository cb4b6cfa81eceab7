"""Signed-in clients for the admin tests: a session row plus the Flask-Login cookie, as if the person had
signed in with password and second factor (the sign-in form is tested in tests/portal/accounts)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from portal.accounts.models import User, UserSession
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import csrf_from, make_department, make_user


def sign_in(client, user: User) -> None:
    raw = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(token_hash=hashlib.sha256(raw.encode()).hexdigest(), user_id=user.id, method="password+totp")
    )
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = raw
        session["_fresh"] = True


@pytest.fixture
def buergeramt(app):
    return make_department("buergeramt", "Bürgeramt")


@pytest.fixture
def bauamt(app):
    return make_department("bauordnung", "Amt für Bauordnung und Denkmalpflege")


@pytest.fixture
def platform_admin(app):
    return make_user("admin@stadt.example", roles=("platform_admin",), totp=True, display_name="Petra Plattform")


@pytest.fixture
def department_admin(buergeramt):
    return make_user(
        "amtsadmin@stadt.example",
        department=buergeramt,
        department_role="department_admin",
        totp=True,
        display_name="Anton Amt",
    )


@pytest.fixture
def as_user(app, client) -> Callable[[User], object]:
    """as_user(user) signs the test client in as that person and returns the client."""

    def sign(user: User):
        sign_in(client, user)
        return client

    return sign


def post_form(client, url: str, data: dict, page: str | None = None):
    """Post `data` to `url` with the CSRF token taken from `page` (default: the form's own page)."""
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def audit_events(action: str) -> list[tuple[AuditEvent, dict]]:
    db.session.expire_all()
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [(event, json.loads(event.details)) for event in events]
