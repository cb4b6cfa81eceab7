"""Repeated failed sign-ins lock the account, and (with a higher limit) the address they come from."""

from __future__ import annotations

import re

import pytest

from portal.accounts.models import User
from portal.extensions import db
from tests.builders import PASSWORD, make_user
from tests.portal.accounts.conftest import details, events

LOCK_RE = re.compile(r"zu viele Fehlversuche, wieder möglich um \d\d:\d\d Uhr")


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "LOGIN_LOCK_AFTER": 3, "LOGIN_IP_LOCK_AFTER": 5, "LOGIN_LOCK_MINUTES": 15}


def test_account_is_locked_after_repeated_failures_even_for_the_right_password(auth):
    user = make_user("anna@example.org")
    for _ in range(2):
        assert "nicht richtig" in auth.login("anna@example.org", "falsch-falsch-falsch").get_data(as_text=True)
    third = auth.login("anna@example.org", "falsch-falsch-falsch").get_data(as_text=True)
    assert LOCK_RE.search(third)

    response = auth.login("anna@example.org", PASSWORD)
    assert response.status_code == 200
    assert LOCK_RE.search(response.get_data(as_text=True))
    assert auth.client.get("/konto/").status_code == 302

    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    [locked] = events("account.locked", subject_user_id=user.id)
    assert details(locked)["reason"] == "account"
    outcomes = [e.outcome for e in events("account.login", subject_user_id=user.id)]
    assert outcomes == ["failure", "failure", "failure", "denied"]


def test_lock_ends_after_the_configured_minutes(auth):
    from datetime import timedelta

    from portal.timeutil import utcnow

    user = make_user("anna@example.org")
    for _ in range(3):
        auth.login("anna@example.org", "falsch-falsch-falsch")
    db.session.expire_all()
    user = db.session.get(User, user.id)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert auth.login("anna@example.org", PASSWORD).headers["Location"] == "/konto/"
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_many_failures_from_one_address_lock_that_address_for_every_account(app, auth):
    make_user("anna@example.org")
    make_user("bob@example.org")
    # Two accounts, two guesses each (below the account limit of 3), then one unknown address: 5 from this IP.
    for email in ("anna@example.org", "anna@example.org", "bob@example.org", "bob@example.org", "x@example.org"):
        auth.login(email, "falsch-falsch-falsch")
    [locked] = events("account.locked")
    assert details(locked)["reason"] == "ip"

    blocked = auth.login("bob@example.org", PASSWORD)
    assert LOCK_RE.search(blocked.get_data(as_text=True))
    assert events("account.login")[-1].outcome == "denied"

    # The same account from another address still signs in: the lock was on the address, not the account.
    other = app.test_client()
    page = other.get("/anmelden", environ_base={"REMOTE_ADDR": "203.0.113.9"}).get_data(as_text=True)
    from tests.builders import csrf_from

    response = other.post(
        "/anmelden",
        data={"csrf_token": csrf_from(page), "email": "bob@example.org", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.headers["Location"] == "/konto/"


def test_two_factor_failures_count_towards_the_lock(auth):
    user = make_user("clara@example.org", roles=("moderator",), totp=True)
    for _ in range(3):
        auth.login("clara@example.org", PASSWORD)
        auth.post_form("/anmelden/zwei-faktor", {"code": "000000"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    response = auth.login("clara@example.org", PASSWORD)
    assert LOCK_RE.search(response.get_data(as_text=True))
    assert [details(e)["method"] for e in events("account.login", outcome="failure")] == ["password+totp"] * 3


def test_failures_beyond_the_slow_threshold_wait_longer_up_to_a_cap(app, auth, monkeypatch):
    from portal.accounts.services import signin

    app.config.update(LOGIN_SLOW_AFTER=1, LOGIN_SLOW_SECONDS=0.5, LOGIN_SLOW_MAX_SECONDS=1.0, LOGIN_LOCK_AFTER=10)
    waits: list[float] = []
    monkeypatch.setattr(signin.time, "sleep", waits.append)
    make_user("anna@example.org")
    for _ in range(4):
        auth.login("anna@example.org", "falsch-falsch-falsch")
    assert waits == [0.5, 1.0, 1.0]
