"""Registration, address verification by mail, and the first sign-in."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import User
from portal.extensions import db
from tests.builders import PASSWORD, make_user
from tests.portal.accounts.conftest import details, events, link_path, outbox_to


def register(auth, email="berta@example.org", password=PASSWORD, confirm=None, name="Berta"):
    return auth.post_form(
        "/registrieren",
        {"display_name": name, "email": email, "password": password, "password_confirm": confirm or password},
    )


def test_registration_mails_a_link_that_verifies_the_address_and_allows_sign_in(client, auth):
    response = register(auth)
    assert response.status_code == 200
    assert "Bitte sehen Sie in Ihr Postfach" in response.get_data(as_text=True)

    [mail] = outbox_to("berta@example.org")
    assert mail.template == "account_verify"
    path = link_path(mail, "/email-bestaetigen/")
    assert mail.body_text.count("http://127.0.0.1:5000/email-bestaetigen/") == 1  # built on BASE_URL

    # Opening the link changes nothing (mail scanners open links); the button on the page confirms.
    response = auth.post_form(path, {}, follow_redirects=True)
    assert "Ihre E-Mail-Adresse ist bestätigt" in response.get_data(as_text=True)

    response = auth.login("berta@example.org", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto/"
    assert "Mein Konto" in client.get("/konto/").get_data(as_text=True)

    user = db.session.scalar(sa.select(User).where(User.email == "berta@example.org"))
    assert user.email_verified_at is not None
    assert [e.outcome for e in events("account.register", subject_user_id=user.id)] == ["success"]
    assert len(events("account.email_verified", subject_user_id=user.id)) == 1
    assert [details(e)["method"] for e in events("account.login", subject_user_id=user.id)] == ["password"]


def test_verification_link_works_only_once(client, auth):
    register(auth)
    path = link_path(outbox_to("berta@example.org")[0], "/email-bestaetigen/")
    assert auth.post_form(path, {}).status_code == 302
    second = client.get(path)
    assert second.status_code == 404
    assert "gilt nicht mehr" in second.get_data(as_text=True)


def test_password_is_stored_as_argon2_hash_only(app, auth):
    register(auth)
    user = db.session.scalar(sa.select(User).where(User.email == "berta@example.org"))
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_unverified_account_cannot_sign_in_and_is_offered_a_new_link(client, auth):
    register(auth)
    response = auth.login("berta@example.org", PASSWORD)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "noch nicht bestätigt" in page
    assert "Bestätigungslink erneut senden" in page
    assert client.get("/konto/").status_code == 302  # still not signed in
    assert [e.outcome for e in events("account.login")] == ["denied"]
    assert details(events("account.login")[0])["reason"] == "unverified"

    response = auth.post_form("/email-bestaetigen/erneut-senden", {"email": "berta@example.org"})
    assert response.status_code == 200
    mails = outbox_to("berta@example.org")
    assert len(mails) == 2
    # The first link lapsed when the new one was made; only the new one verifies.
    assert client.get(link_path(mails[0], "/email-bestaetigen/")).status_code == 404
    assert auth.post_form(link_path(mails[1], "/email-bestaetigen/"), {}).status_code == 302
    assert len(events("account.verification_resent")) == 1


def test_registering_a_taken_address_answers_the_same_and_tells_the_owner_by_mail(client, auth):
    make_user("anna@example.org")
    response = register(auth, email="anna@example.org", name="Mallory")
    assert "Bitte sehen Sie in Ihr Postfach" in response.get_data(as_text=True)
    [mail] = outbox_to("anna@example.org")
    assert mail.template == "account_exists"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert [e.outcome for e in events("account.register")] == ["denied"]


def test_registration_form_shows_errors_and_keeps_typed_values(auth):
    response = register(auth, email="berta@example.org", password=PASSWORD, confirm="etwas-anderes-123")
    page = response.get_data(as_text=True)
    assert "Bitte korrigieren Sie Ihre Eingaben" in page
    assert "stimmen nicht überein" in page
    assert 'value="berta@example.org"' in page
    assert 'value="Berta"' in page
    assert outbox_to("berta@example.org") == []


def test_wrong_password_keeps_the_typed_email_and_says_nothing_about_which_was_wrong(auth):
    make_user("anna@example.org")
    response = auth.login("anna@example.org", "falsches-Passwort-123")
    page = response.get_data(as_text=True)
    assert "E-Mail-Adresse oder Passwort ist nicht richtig" in page
    assert 'value="anna@example.org"' in page
    assert "falsches-Passwort-123" not in page
    unknown = auth.login("niemand@example.org", "falsches-Passwort-123").get_data(as_text=True)
    assert "E-Mail-Adresse oder Passwort ist nicht richtig" in unknown
    assert [e.outcome for e in events("account.login")] == ["failure", "failure"]


def test_sign_in_without_csrf_token_is_refused(client):
    make_user("anna@example.org")
    response = client.post("/anmelden", data={"email": "anna@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/konto/").status_code == 302


def test_sign_in_rotates_the_session_and_sign_out_ends_it(client, auth):
    make_user("anna@example.org")
    client.get("/anmelden")
    with client.session_transaction() as before:
        before["marker"] = "planted-before-sign-in"
    auth.login()
    with client.session_transaction() as after:
        assert "marker" not in after
    assert client.get("/konto/").status_code == 200

    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 302
    assert len(events("account.logout")) == 1


def test_sign_in_redirects_only_to_local_next_paths(auth):
    make_user("anna@example.org")
    response = auth.post_form("/anmelden?next=//evil.example/", {"email": "anna@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/konto/"


def test_registration_mail_reaches_a_real_smtp_server(app, client, auth, runner, smtp_server):
    app.config.update(smtp_server.config())
    register(auth)
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    [message] = smtp_server.messages_to("berta@example.org")
    body = message.get_body(preferencelist=("plain",)).get_content()
    path = next(line for line in body.split() if "/email-bestaetigen/" in line).split("127.0.0.1:5000", 1)[1]
    assert auth.post_form(path, {}).status_code == 302
    assert auth.login("berta@example.org", PASSWORD).headers["Location"] == "/konto/"


def test_registering_in_english_sets_the_account_language_used_for_mail(client, auth):
    client.get("/registrieren")
    response = client.post(
        "/registrieren",
        data={
            "csrf_token": auth.csrf("/registrieren"),
            "display_name": "Berta",
            "email": "berta@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.email == "berta@example.org"))
    assert user.language == "en"
    assert outbox_to("berta@example.org")[0].language == "en"
