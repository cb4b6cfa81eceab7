"""Forgotten password: a mailed link that works once and expires, and no hint whether an address is known."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import EmailToken
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import PASSWORD, make_user
from tests.portal.accounts.conftest import details, events, link_path, outbox_to

NEW_PASSWORD = "ein-ganz-neues-Passwort-2"


def test_known_and_unknown_addresses_get_the_same_answer(auth):
    make_user("anna@example.org")
    known = auth.post_form("/passwort-vergessen", {"email": "anna@example.org"})
    unknown = auth.post_form("/passwort-vergessen", {"email": "niemand@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r, email: r.get_data(as_text=True).replace(email, "EMAIL")  # noqa: E731
    import re

    nonce = re.compile(r'(nonce|value)="[^"]*"')
    assert nonce.sub("", strip(known, "anna@example.org")) == nonce.sub("", strip(unknown, "niemand@example.org"))
    assert len(outbox_to("anna@example.org")) == 1
    assert outbox_to("niemand@example.org") == []
    assert [e.outcome for e in events("account.password_reset_requested")] == ["success", "failure"]


def test_reset_link_sets_a_new_password_once(client, auth):
    user = make_user("anna@example.org")
    auth.post_form("/passwort-vergessen", {"email": "anna@example.org"})
    [mail] = outbox_to("anna@example.org")
    assert mail.template == "account_password_reset"
    path = link_path(mail, "/passwort-zuruecksetzen/")
    assert EmailToken.query.count() == 1
    assert path.rsplit("/", 1)[1] not in db.session.scalar(sa.select(EmailToken.token_hash))

    response = auth.post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/anmelden"
    assert client.get(path).status_code == 404  # used up
    assert "nicht richtig" in auth.login("anna@example.org", PASSWORD).get_data(as_text=True)
    assert auth.login("anna@example.org", NEW_PASSWORD).headers["Location"] == "/konto/"
    [changed] = events("account.password_changed", subject_user_id=user.id)
    assert details(changed)["method"] == "reset_link"


def test_expired_reset_link_is_refused(client, auth):
    make_user("anna@example.org")
    auth.post_form("/passwort-vergessen", {"email": "anna@example.org"})
    path = link_path(outbox_to("anna@example.org")[0], "/passwort-zuruecksetzen/")
    token = db.session.scalar(sa.select(EmailToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 404
    assert "gilt nicht mehr" in response.get_data(as_text=True)


def test_password_reset_signs_out_every_session(app, auth):
    make_user("anna@example.org")
    auth.login()
    assert auth.client.get("/konto/").status_code == 200
    other = app.test_client()
    from tests.builders import AuthActions

    AuthActions(other).post_form("/passwort-vergessen", {"email": "anna@example.org"})
    path = link_path(outbox_to("anna@example.org")[0], "/passwort-zuruecksetzen/")
    AuthActions(other).post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert auth.client.get("/konto/").status_code == 302


def test_changing_the_password_needs_the_current_one(client, auth):
    user = make_user("anna@example.org")
    auth.login()
    wrong = auth.post_form(
        "/konto/sicherheit/passwort",
        {"pw-current_password": "falsch", "pw-password": NEW_PASSWORD, "pw-password_confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert "bisherige Passwort ist nicht richtig" in wrong.get_data(as_text=True)
    ok = auth.post_form(
        "/konto/sicherheit/passwort",
        {"pw-current_password": PASSWORD, "pw-password": NEW_PASSWORD, "pw-password_confirm": NEW_PASSWORD},
    )
    assert ok.headers["Location"] == "/konto/sicherheit"
    assert client.get("/konto/").status_code == 200  # this browser stays signed in
    [changed] = events("account.password_changed", subject_user_id=user.id)
    assert details(changed)["method"] == "change"
