"""Helpers for the token tests: a signed-in platform admin, and tokens made through the service."""

from __future__ import annotations

import pytest

from portal.accounts.sessions import start_session
from portal.extensions import db
from tests.builders import make_user


def sign_in_directly(app, client, user) -> None:
    """A session as after password + TOTP, without going through the login form."""
    with app.test_request_context():
        start_session(user, "password+totp")
        raw = user.session_token
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = raw
        session["_fresh"] = True


@pytest.fixture
def admin(app, client):
    user = make_user("admin@example.org", roles=("platform_admin",), totp=True)
    sign_in_directly(app, client, user)
    return user
