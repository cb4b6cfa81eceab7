"""Mein Konto: profile, sessions, data export and deletion."""

from __future__ import annotations

import json

import pyotp
import sqlalchemy as sa

from portal.accounts.models import User, UserSession
from portal.extensions import db
from tests.builders import PASSWORD, AuthActions, make_department, make_user
from tests.portal.accounts.conftest import details, events


def test_overview_links_to_profile_security_export_protocol_and_deletion(client, auth):
    make_user("anna@example.org")
    auth.login()
    page = client.get("/konto/").get_data(as_text=True)
    assert page.count("<h1") == 1
    for href in ("/konto/profil", "/konto/sicherheit", "/konto/daten", "/konto/protokoll", "/konto/loeschen"):
        assert f'href="{href}' in page


def test_profile_update_changes_name_and_language_and_is_audited(client, auth):
    user = make_user("anna@example.org")
    auth.login()
    response = auth.post_form("/konto/profil", {"display_name": "Anna Beispiel", "language": "en"})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.display_name, user.language) == ("Anna Beispiel", "en")
    [event] = events("account.profile_updated", subject_user_id=user.id)
    assert details(event)["fields"] == ["display_name", "language"]


def test_revoking_a_session_signs_the_other_browser_out(app, client, auth):
    user = make_user("anna@example.org")
    laptop = AuthActions(app.test_client())
    laptop.login()
    auth.login()
    assert laptop.client.get("/konto/").status_code == 200

    page = client.get("/konto/sicherheit").get_data(as_text=True)
    assert "dieses Gerät" in page
    other = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).all()
    laptop_row = min(other, key=lambda s: s.id)
    assert f"/konto/sicherheit/sitzungen/{laptop_row.id}/beenden" in page

    response = auth.post_form(f"/konto/sicherheit/sitzungen/{laptop_row.id}/beenden", {})
    assert response.status_code == 302
    assert laptop.client.get("/konto/").status_code == 302
    assert client.get("/konto/").status_code == 200
    [event] = events("account.session_revoked", subject_user_id=user.id)
    assert details(event)["session_id"] == laptop_row.id


def test_sign_out_everywhere_else_keeps_this_browser(app, client, auth):
    make_user("anna@example.org")
    phones = [AuthActions(app.test_client()) for _ in range(2)]
    for phone in phones:
        phone.login()
    auth.login()
    auth.post_form("/konto/sicherheit/sitzungen/andere-beenden", {})
    assert [p.client.get("/konto/").status_code for p in phones] == [302, 302]
    assert client.get("/konto/").status_code == 200
    assert len(events("account.session_revoked")) == 2


def test_one_cannot_revoke_someone_elses_session(app, client, auth):
    make_user("anna@example.org")
    make_user("bob@example.org")
    bob = AuthActions(app.test_client())
    bob.login("bob@example.org")
    bob_session = db.session.scalar(sa.select(UserSession).join(User).where(User.email == "bob@example.org"))
    auth.login()
    response = auth.post_form(f"/konto/sicherheit/sitzungen/{bob_session.id}/beenden", {})
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto/sicherheit"
    page = client.get("/konto/sicherheit").get_data(as_text=True)
    assert "kern-alert--danger" in page and "Diese Sitzung gibt es nicht." in page
    assert bob.client.get("/konto/").status_code == 200
    assert events("account.session_revoked") == []


def test_export_contains_my_data_and_nobody_elses(client, auth):
    department = make_department()
    anna = make_user("anna@example.org", display_name="Anna", department=department, department_role="clerk", totp=True)
    make_user("bob@example.org", display_name="Bob")
    AuthActions(client).login("bob@example.org")  # leaves events about Bob
    client.post("/abmelden", data={"csrf_token": auth.csrf("/")})
    auth.login()
    auth.totp(anna)

    response = client.get("/konto/daten.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "anna@example.org"
    assert data["department_memberships"][0]["role"] == "clerk"
    assert data["department_memberships"][0]["department"] == department.name
    assert len(data["sessions"]) == 1
    assert {e["action"] for e in data["audit_events"]} >= {"account.login"}
    text = response.get_data(as_text=True)
    assert "bob@example.org" not in text and '"Bob"' not in text
    assert anna.totp_secret not in text
    assert "$argon2" not in text
    assert len(events("account.data_exported", subject_user_id=anna.id)) == 1


def test_deleting_the_account_pseudonymises_it_and_keeps_the_audit_trail(app, client, auth):
    user = make_user("anna@example.org", totp=True, roles=("moderator",))
    other = AuthActions(app.test_client())
    other.login()
    other.totp(user)
    auth.login()
    # The second browser needs a fresh code; forget the step the first one used rather than wait 30 seconds.
    db.session.expire_all()
    db.session.get(User, user.id).totp_last_step = None
    db.session.commit()
    auth.post_form("/anmelden/zwei-faktor", {"code": pyotp.TOTP(user.totp_secret).now()})
    assert client.get("/konto/").status_code == 200
    before = len(events("account.login", subject_user_id=user.id))

    refused = auth.post_form("/konto/loeschen", {"password": "falsch", "confirm": "y"})
    assert "Passwort ist nicht richtig" in refused.get_data(as_text=True)
    response = auth.post_form("/konto/loeschen", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 200
    assert "Ihr Konto ist gelöscht" in response.get_data(as_text=True)

    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.email == f"deleted-{user.id}@invalid"
    assert user.password_hash is None and user.totp_secret is None and user.totp_enabled_at is None
    assert user.deleted_at is not None and user.display_name == ""
    assert user.roles == []
    assert all(s.revoked_at is not None for s in db.session.scalars(sa.select(UserSession)))
    assert client.get("/konto/").status_code == 302
    assert other.client.get("/konto/").status_code == 302
    assert len(events("account.login", subject_user_id=user.id)) == before  # the trail stays
    assert len(events("account.deleted", subject_user_id=user.id)) == 1
    assert "nicht richtig" in auth.login("anna@example.org", PASSWORD).get_data(as_text=True)


def test_deletion_page_explains_what_is_kept(client, auth):
    make_user("anna@example.org")
    auth.login()
    page = client.get("/konto/loeschen").get_data(as_text=True)
    assert "Was aufbewahrt werden muss" in page
    assert "Protokoll" in page


def _organisation(auth, name: str) -> int:
    response = auth.post_form("/organisationen/neu", {"name": name})
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_only_owner_of_an_organisation_cannot_delete_the_account_and_is_told_what_to_do(client, auth):
    user = make_user("anna@example.org")
    auth.login()
    bakery = _organisation(auth, "Bäckerei Korn GmbH")
    _organisation(auth, "Café Krume")

    response = auth.post_form("/konto/loeschen", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Ihr Konto kann noch nicht gelöscht werden" in page
    assert "Bäckerei Korn GmbH, Café Krume" in page
    assert "Übertragen Sie die Inhaberschaft" in page
    assert f'href="/organisationen/{bakery}"' in page
    db.session.expire_all()
    assert db.session.get(User, user.id).deleted_at is None
    assert events("account.deleted") == []
    assert client.get("/konto/").status_code == 200  # still signed in


def test_owner_who_handed_the_organisation_over_can_delete_the_account(app, client, auth):
    from portal.accounts.models import OrganisationMember

    make_user("anna@example.org")
    bob = make_user("bob@example.org")
    auth.login()
    bakery = _organisation(auth, "Bäckerei Korn GmbH")
    bobs = OrganisationMember(organisation_id=bakery, user_id=bob.id, role="member")
    db.session.add(bobs)
    db.session.commit()
    # A second owner is enough, too: only the last owner holds the deletion up.
    assert auth.post_form("/konto/loeschen", {"password": PASSWORD, "confirm": "y"}).status_code == 409
    auth.post_form(f"/organisationen/{bakery}/mitglieder/{bobs.id}/inhaberschaft", {})

    response = auth.post_form("/konto/loeschen", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 200
    assert "Ihr Konto ist gelöscht" in response.get_data(as_text=True)
    db.session.expire_all()
    owners = db.session.scalars(sa.select(OrganisationMember.user_id).where(OrganisationMember.role == "owner"))
    assert list(owners) == [bob.id]
