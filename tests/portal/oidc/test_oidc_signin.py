"""Sign-in with an external OpenID Connect provider, against a real provider on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from portal.accounts.models import OidcIdentity, User, UserSession
from portal.accounts.sessions import load_user
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import make_department, make_user


def signed_in_user(client) -> User | None:
    with client.session_transaction() as session:
        raw = session.get("_user_id")
    return load_user(raw) if raw else None


def actions() -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq))]


def test_start_redirects_to_the_provider_with_pkce_state_and_nonce(provider):
    _, sent = provider.authorize("pkce-check")
    query = parse_qs(sent["query"])
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["stadtportal"]
    assert query["redirect_uri"] == ["http://localhost/oidc/callback"]
    assert "openid" in query["scope"][0].split()
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]


def test_first_sign_in_creates_a_verified_account_with_subject_and_assurance_level(provider, client):
    provider.set_user("bund-123", email="Neu@Example.org", email_verified=True, name="Nora Neu", acr="substantiell")
    response = provider.sign_in("bund-123")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    user = signed_in_user(client)
    assert user is not None
    assert user.email == "neu@example.org"
    assert user.email_verified_at is not None
    assert user.password_hash is None
    assert user.display_name == "Nora Neu"
    identity = db.session.scalar(sa.select(OidcIdentity).where(OidcIdentity.user_id == user.id))
    assert identity.issuer == provider.issuer
    assert identity.subject == "bund-123"
    assert identity.assurance_level == "substantiell"
    assert identity.last_login_at is not None
    assert db.session.scalar(sa.select(UserSession.method).where(UserSession.user_id == user.id)) == "oidc"
    assert ("account.register", "success") in actions()
    assert ("account.oidc_linked", "success") in actions()
    assert actions()[-1] == ("account.login", "success")
    assert "Abmelden" in client.get("/").get_data(as_text=True)


def test_verified_email_links_the_existing_local_account(provider, client):
    anna = make_user("anna@example.org")
    provider.set_user("bund-anna", email="ANNA@example.org", email_verified=True, acr="hoch")
    provider.sign_in("bund-anna")

    user = signed_in_user(client)
    assert user is not None and user.id == anna.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    identity = db.session.scalar(sa.select(OidcIdentity))
    assert (identity.user_id, identity.subject, identity.assurance_level) == (anna.id, "bund-anna", "hoch")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.oidc_linked"))
    assert '"assurance_level":"hoch"' in event.details
    assert ("account.register", "success") not in actions()


def test_returning_subject_signs_into_the_linked_account_and_updates_the_level(provider, client, app):
    provider.set_user("bund-7", email="sieben@example.org", email_verified=True, acr="substantiell")
    provider.sign_in("bund-7")
    first = signed_in_user(client)
    first_login = db.session.scalar(sa.select(OidcIdentity.last_login_at))

    # The provider now reports another address and a higher level: the subject decides, not the address.
    provider.set_user("bund-7", email="anders@example.org", email_verified=True, acr="hoch")
    second_client = app.test_client()
    second_provider = type(provider)(provider.issuer, second_client)
    second_provider.sign_in("bund-7")

    again = signed_in_user(second_client)
    assert again is not None and first is not None and again.id == first.id
    db.session.expire_all()
    identities = list(db.session.scalars(sa.select(OidcIdentity)))
    assert len(identities) == 1
    assert identities[0].assurance_level == "hoch"
    assert identities[0].last_login_at >= first_login
    assert [a for a in actions() if a[0] == "account.oidc_linked"] == [("account.oidc_linked", "success")]
    assert actions().count(("account.login", "success")) == 2


def test_assurance_claim_name_is_configurable(app, provider, client):
    app.config["OIDC_ASSURANCE_CLAIM"] = "vertrauensniveau"
    provider.set_user("bund-v", email="v@example.org", email_verified=True, vertrauensniveau="normal", acr="x")
    provider.sign_in("bund-v")
    assert db.session.scalar(sa.select(OidcIdentity.assurance_level)) == "normal"


def test_unverified_email_is_neither_linked_nor_used_for_a_new_account(provider, client):
    make_user("anna@example.org")
    provider.set_user("bund-x", email="anna@example.org", email_verified=False)
    response = provider.sign_in("bund-x")

    assert response.status_code == 400
    assert "keine bestätigte E-Mail-Adresse" in response.get_data(as_text=True)
    assert signed_in_user(client) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OidcIdentity)) == 0
    assert actions()[-1] == ("account.login", "denied")


def test_next_page_is_kept_across_the_round_trip_but_only_on_this_site(provider, client):
    provider.set_user("bund-n", email="n@example.org", email_verified=True)
    response = provider.sign_in("bund-n", start="/oidc/anmelden?next=/konto/")
    assert response.headers["Location"] == "/konto/"

    other = type(provider)(provider.issuer, client.application.test_client())
    response = other.sign_in("bund-n", start="/oidc/anmelden?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_callback_with_a_forged_state_is_refused(provider, client):
    provider.set_user("bund-s", email="s@example.org", email_verified=True)
    callback, _ = provider.authorize("bund-s")
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    response = client.get(f"{parts.path}?code={query['code'][0]}&state=forged")

    assert response.status_code == 400
    assert "fehlgeschlagen" in response.get_data(as_text=True)
    assert signed_in_user(client) is None
    assert actions()[-1] == ("account.login", "denied")


def test_callback_in_another_browser_is_refused(provider, app):
    """The state lives in the session of the browser that started: a stolen callback URL is useless."""
    provider.set_user("bund-t", email="t@example.org", email_verified=True)
    callback, _ = provider.authorize("bund-t")
    parts = urlsplit(callback)
    thief = app.test_client()
    response = thief.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 400
    assert signed_in_user(thief) is None


def test_denial_at_the_provider_is_explained(provider, client):
    response = client.get("/oidc/anmelden")
    state = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]
    response = client.get(f"/oidc/callback?error=access_denied&state={state}")
    assert response.status_code == 400
    assert "abgebrochen" in response.get_data(as_text=True)


def test_staff_with_totp_continue_at_the_second_factor_not_signed_in_yet(provider, client):
    department = make_department()
    clerk = make_user("clerk@example.org", department=department, department_role="clerk", totp=True)
    provider.set_user("bund-clerk", email="clerk@example.org", email_verified=True)
    response = provider.sign_in("bund-clerk")

    assert response.status_code == 302
    assert response.headers["Location"] == "/anmelden/zwei-faktor"
    assert signed_in_user(client) is None
    with client.session_transaction() as session:
        assert session["mfa_pending"]["user_id"] == clerk.id


def test_deleted_account_cannot_sign_in_through_its_link(provider, client):
    provider.set_user("bund-d", email="d@example.org", email_verified=True)
    provider.sign_in("bund-d")
    user = signed_in_user(client)
    assert user is not None
    user.deleted_at = user.created_at
    db.session.commit()

    other = type(provider)(provider.issuer, client.application.test_client())
    response = other.sign_in("bund-d")
    assert response.status_code == 400
    assert signed_in_user(other.client) is None


def test_routes_answer_404_when_no_provider_is_configured(app, client):
    app.config["OIDC_ISSUER"] = ""
    assert client.get("/oidc/anmelden").status_code == 404
    assert client.get("/oidc/callback?code=x&state=y").status_code == 404


def test_staff_complete_the_oidc_sign_in_with_their_totp_code(provider, client, auth):
    clerk = make_user("clerk@example.org", department=make_department(), department_role="clerk", totp=True)
    provider.set_user("bund-clerk", email="clerk@example.org", email_verified=True, acr="substantiell")
    provider.sign_in("bund-clerk", start="/oidc/anmelden?next=/konto/")

    response = auth.totp(clerk)
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto/"
    user = signed_in_user(client)
    assert user is not None and user.id == clerk.id
    assert db.session.scalar(sa.select(UserSession.method).where(UserSession.user_id == clerk.id)) == "oidc+totp"
    from portal.oidc.services import session_assurance_level

    assert session_assurance_level(user) == "substantiell"


def test_login_page_snippet_offers_the_provider_only_when_configured(app):
    from flask import render_template

    with app.test_request_context("/anmelden?next=/konto/"):
        html = render_template("oidc/_button.html")
    assert "Mit BundID anmelden" in html
    assert 'href="/oidc/anmelden?next=/konto/"' in html

    app.config["OIDC_ISSUER"] = ""
    with app.test_request_context("/anmelden"):
        assert render_template("oidc/_button.html").strip() == ""


def test_citizen_who_chose_totp_gives_the_code_after_oidc_too(provider, client):
    make_user("vorsichtig@example.org", totp=True)
    provider.set_user("bund-v2", email="vorsichtig@example.org", email_verified=True)
    response = provider.sign_in("bund-v2")
    assert response.headers["Location"] == "/anmelden/zwei-faktor"
    assert signed_in_user(client) is None


def _lock(user: User) -> None:
    from datetime import timedelta

    from portal.timeutil import utcnow

    user.failed_logins = 5
    user.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()


def _last_login_event() -> AuditEvent:
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "account.login").order_by(AuditEvent.seq.desc())
    ).first()


def test_locked_account_cannot_sign_in_through_its_oidc_link(provider, client, app):
    provider.set_user("bund-lock", email="lock@example.org", email_verified=True)
    provider.sign_in("bund-lock")
    user = signed_in_user(client)
    assert user is not None
    _lock(user)

    other = type(provider)(provider.issuer, app.test_client())
    response = other.sign_in("bund-lock")

    assert response.status_code == 400
    assert "Anmeldung gesperrt: zu viele Fehlversuche" in response.get_data(as_text=True)
    assert signed_in_user(other.client) is None
    event = _last_login_event()
    assert (event.outcome, event.subject_user_id) == ("denied", user.id)
    assert '"reason":"locked"' in event.details and '"method":"oidc"' in event.details


def test_locked_local_account_is_neither_linked_nor_signed_in_by_its_verified_email(provider, client):
    anna = make_user("anna@example.org")
    _lock(anna)
    provider.set_user("bund-anna-locked", email="anna@example.org", email_verified=True)
    response = provider.sign_in("bund-anna-locked")

    assert response.status_code == 400
    assert "Anmeldung gesperrt" in response.get_data(as_text=True)
    assert signed_in_user(client) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OidcIdentity)) == 0
    event = _last_login_event()
    assert (event.outcome, event.subject_user_id) == ("denied", anna.id)


def test_simultaneous_first_sign_ins_of_one_subject_end_in_the_account_that_won(provider, client, monkeypatch):
    """The other request linked the subject between our look-up and our insert: no 500, we sign into its account."""
    from portal.oidc import services
    from portal.timeutil import utcnow

    winner = make_user("gewinner@example.org")
    db.session.add(OidcIdentity(issuer=provider.issuer, subject="bund-race", user_id=winner.id, linked_at=utcnow()))
    db.session.commit()
    real_find = services._find_identity
    calls = []

    def find_too_early(issuer: str, subject: str):
        calls.append(subject)
        return None if len(calls) == 1 else real_find(issuer, subject)

    monkeypatch.setattr(services, "_find_identity", find_too_early)
    provider.set_user("bund-race", email="race@example.org", email_verified=True)
    response = provider.sign_in("bund-race")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = signed_in_user(client)
    assert user is not None and user.id == winner.id
    assert len(calls) == 2
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1  # the loser's account is gone
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OidcIdentity)) == 1
    assert actions()[-1] == ("account.login", "success")


def test_staff_first_factor_through_oidc_is_audited_before_the_code(provider, client):
    clerk = make_user("clerk@example.org", department=make_department(), department_role="clerk", totp=True)
    provider.set_user("bund-clerk", email="clerk@example.org", email_verified=True)
    provider.sign_in("bund-clerk")

    event = _last_login_event()
    assert (event.outcome, event.subject_user_id) == ("success", clerk.id)
    assert '"method":"oidc"' in event.details and '"stage":"first_factor"' in event.details
    assert signed_in_user(client) is None
