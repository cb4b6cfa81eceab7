"""How long a sign-in lasts: staff (platform admins too) lose an idle session after 30 minutes and any session
after 12 hours; nobody's lasts longer than a day (finding 7 of issue 11: they lasted 31 days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.accounts.models import UserSession
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import make_user


def _age_session(*, created: timedelta = timedelta(0), idle: timedelta = timedelta(0)) -> None:
    """Move the one open session back in time: signed in `created` ago, last seen `idle` ago."""
    row = db.session.scalars(sa.select(UserSession).where(UserSession.revoked_at.is_(None))).one()
    row.created_at = utcnow() - created
    row.last_seen_at = utcnow() - idle
    db.session.commit()


def _signed_in(client) -> bool:
    response = client.get("/konto/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def _sign_in_staff(auth, role: str):
    user = make_user("clara@example.org", roles=(role,), totp=True)
    auth.login("clara@example.org")
    auth.totp(user)
    return user


@pytest.mark.parametrize("role", ["moderator", "platform_admin"])
def test_staff_session_ends_after_thirty_idle_minutes(client, auth, role):
    _sign_in_staff(auth, role)
    _age_session(created=timedelta(minutes=40), idle=timedelta(minutes=29))
    assert _signed_in(client)
    _age_session(created=timedelta(minutes=40), idle=timedelta(minutes=31))
    assert not _signed_in(client)
    # The session is revoked for good, not only refused this once.
    assert db.session.scalars(sa.select(UserSession.revoked_at)).one() is not None


@pytest.mark.parametrize("role", ["moderator", "platform_admin"])
def test_staff_session_ends_after_twelve_hours_however_active(client, auth, role):
    _sign_in_staff(auth, role)
    _age_session(created=timedelta(hours=11, minutes=59))
    assert _signed_in(client)
    _age_session(created=timedelta(hours=12, minutes=1))
    assert not _signed_in(client)


def test_citizen_session_survives_idle_hours_but_not_a_day(client, auth):
    make_user()
    auth.login()
    _age_session(created=timedelta(hours=23), idle=timedelta(hours=5))
    assert _signed_in(client)
    _age_session(created=timedelta(hours=24, minutes=1))
    assert not _signed_in(client)


def test_lifetimes_come_from_the_configuration(app, client, auth):
    app.config["STAFF_SESSION_IDLE_MINUTES"] = 5
    _sign_in_staff(auth, "moderator")
    _age_session(idle=timedelta(minutes=6))
    assert not _signed_in(client)


def test_the_session_cookie_expires_with_the_longest_sign_in(client, auth):
    make_user()
    response = auth.login()
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    expires = cookie.split("Expires=")[1].split(";")[0]
    from email.utils import parsedate_to_datetime

    lifetime = parsedate_to_datetime(expires) - utcnow()
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)
