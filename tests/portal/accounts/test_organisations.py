"""Businesses: create, invite by mail, accept, act for, remove; and staff invitations accepted at the same link."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.accounts.models import DepartmentMembership, Invitation, Organisation, OrganisationMember, User, UserRole
from portal.accounts.services.common import new_token
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import PASSWORD, AuthActions, make_department, make_user
from tests.portal.accounts.conftest import details, events, link_path, outbox_to


def create_org(auth, name="Bäckerei Korn GmbH") -> Organisation:
    response = auth.post_form("/organisationen/neu", {"name": name, "register_number": "HRB 4711"})
    assert response.status_code == 302
    return db.session.scalar(sa.select(Organisation).where(Organisation.name == name))


def test_creating_an_organisation_makes_the_creator_its_owner(client, auth):
    user = make_user("anna@example.org")
    auth.login()
    organisation = create_org(auth)
    [member] = organisation.members
    assert (member.user_id, member.role) == (user.id, "owner")
    page = client.get(f"/organisationen/{organisation.id}").get_data(as_text=True)
    assert "Bäckerei Korn GmbH" in page
    assert "Mitglied einladen" in page
    assert details(events("organisation.created")[0])["name"] == "Bäckerei Korn GmbH"


def test_invited_person_accepts_while_signed_in_with_that_address_and_becomes_member(app, client, auth):
    make_user("anna@example.org")
    bob = make_user("bob@example.org", display_name="Bob", language="en")
    auth.login()
    organisation = create_org(auth)
    response = auth.post_form(f"/organisationen/{organisation.id}/einladen", {"invite-email": "bob@example.org"})
    assert response.status_code == 302
    [mail] = outbox_to("bob@example.org")
    assert mail.template == "organisation_invitation" and mail.language == "en"
    path = link_path(mail, "/einladung/")
    assert [details(e)["kind"] for e in events("invitation.created")] == ["organisation"]

    bob_browser = AuthActions(app.test_client())
    anonymous_page = bob_browser.client.get(path).get_data(as_text=True)
    assert "Bäckerei Korn GmbH" in anonymous_page
    assert "Anmelden und Einladung annehmen" in anonymous_page

    # Anna (signed in, but invited address is Bob's) cannot take Bob's invitation.
    refused = auth.post_form(path, {})
    assert "andere E-Mail-Adresse" in refused.get_data(as_text=True)

    bob_browser.login("bob@example.org")
    response = bob_browser.post_form(path, {})
    assert response.headers["Location"] == f"/organisationen/{organisation.id}"
    member = db.session.scalar(sa.select(OrganisationMember).where(OrganisationMember.user_id == bob.id))
    assert member.role == "member"
    assert details(events("invitation.accepted", subject_user_id=bob.id)[0])["kind"] == "organisation"
    assert bob_browser.client.get(path).status_code == 404  # used up


def test_only_the_owner_invites_and_members_see_no_invite_form(app, client, auth):
    anna = make_user("anna@example.org")
    bob = make_user("bob@example.org")
    auth.login()
    organisation = create_org(auth)
    db.session.add(OrganisationMember(organisation_id=organisation.id, user_id=bob.id, role="member"))
    db.session.commit()
    bob_browser = AuthActions(app.test_client())
    bob_browser.login("bob@example.org")
    page = bob_browser.client.get(f"/organisationen/{organisation.id}").get_data(as_text=True)
    assert "Mitglied einladen" not in page
    response = bob_browser.post_form(f"/organisationen/{organisation.id}/einladen", {"invite-email": "eve@example.org"})
    assert response.status_code == 403
    assert outbox_to("eve@example.org") == []
    assert anna.id


def test_non_members_cannot_see_an_organisation(app, auth):
    make_user("anna@example.org")
    make_user("eve@example.org")
    auth.login()
    organisation = create_org(auth)
    eve = AuthActions(app.test_client())
    eve.login("eve@example.org")
    assert eve.client.get(f"/organisationen/{organisation.id}").status_code == 404


def test_member_acts_for_the_organisation_until_removed(app, client, auth):
    from portal.accounts.services.organisations import acting_organisation_id

    make_user("anna@example.org")
    bob = make_user("bob@example.org")
    auth.login()
    organisation = create_org(auth)
    membership = OrganisationMember(organisation_id=organisation.id, user_id=bob.id, role="member")
    db.session.add(membership)
    db.session.commit()

    bob_client = app.test_client()
    bob_browser = AuthActions(bob_client)
    bob_browser.login("bob@example.org")
    response = bob_browser.post_form("/organisationen/handeln", {"organisation_id": str(organisation.id)})
    assert response.status_code == 302
    with bob_client:
        bob_client.get("/organisationen/")
        assert acting_organisation_id() == organisation.id
    assert details(events("organisation.acting_changed")[0])["organisation_id"] == organisation.id

    response = auth.post_form(f"/organisationen/{organisation.id}/mitglieder/{membership.id}/entfernen", {})
    assert response.status_code == 302
    assert details(events("organisation.member_removed")[0])["user_id"] == bob.id
    with bob_client:
        bob_client.get("/organisationen/")
        assert acting_organisation_id() is None


def test_acting_for_an_organisation_one_is_not_member_of_is_refused(app, auth):
    make_user("anna@example.org")
    make_user("eve@example.org")
    auth.login()
    organisation = create_org(auth)
    eve = AuthActions(app.test_client())
    eve.login("eve@example.org")
    assert eve.post_form("/organisationen/handeln", {"organisation_id": str(organisation.id)}).status_code == 403


def test_last_owner_cannot_be_removed(client, auth):
    make_user("anna@example.org")
    auth.login()
    organisation = create_org(auth)
    [owner] = organisation.members
    response = auth.post_form(f"/organisationen/{organisation.id}/mitglieder/{owner.id}/entfernen", {})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organisationen/{organisation.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "kern-alert--danger" in page
    assert "Die letzte Inhaberin oder der letzte Inhaber kann nicht entfernt werden." in page
    db.session.expire_all()
    assert db.session.get(OrganisationMember, owner.id) is not None
    assert events("organisation.member_removed") == []


def _staff_invitation(email: str, role: str, department_id: int | None = None) -> str:
    inviter = make_user("admin@example.org", roles=("platform_admin",), totp=True)
    raw, hashed = new_token()
    db.session.add(
        Invitation(
            kind="staff",
            email=email,
            token_hash=hashed,
            department_id=department_id,
            role=role,
            invited_by_id=inviter.id,
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    db.session.commit()
    return f"/einladung/{raw}"


def test_staff_invitation_with_department_grants_the_membership(client, auth):
    department = make_department()
    user = make_user("fritz@example.org")
    path = _staff_invitation("fritz@example.org", "clerk", department.id)
    page = client.get(path).get_data(as_text=True)
    assert department.name in page
    auth.login("fritz@example.org")
    response = auth.post_form(path, {})
    assert response.status_code == 302
    membership = db.session.scalar(sa.select(DepartmentMembership).where(DepartmentMembership.user_id == user.id))
    assert (membership.department_id, membership.role) == (department.id, "clerk")
    [granted] = events("role.granted", subject_user_id=user.id)
    assert details(granted)["role"] == "clerk"
    assert details(events("invitation.accepted", subject_user_id=user.id)[0])["kind"] == "staff"
    # Now staff: two-factor setup comes first.
    assert client.get("/konto/").headers["Location"] == "/konto/zwei-faktor/einrichten"


def test_staff_invitation_without_department_grants_a_global_role(client, auth):
    user = make_user("greta@example.org")
    path = _staff_invitation("greta@example.org", "moderator")
    auth.login("greta@example.org")
    auth.post_form(path, {})
    db.session.expire_all()
    assert db.session.scalars(sa.select(UserRole.role).where(UserRole.user_id == user.id)).all() == ["moderator"]
    assert db.session.get(User, user.id).is_staff
    assert len(events("role.granted", subject_user_id=user.id)) == 1


def test_expired_invitation_is_refused(client, auth):
    make_user("greta@example.org")
    path = _staff_invitation("greta@example.org", "moderator")
    invitation = db.session.scalar(sa.select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(path).status_code == 404


def test_accepting_while_signed_out_leads_to_sign_in_and_back(client, auth):
    make_user("greta@example.org")
    path = _staff_invitation("greta@example.org", "moderator")
    # Signed out, the invitation page has no form of its own: the token comes from the sign-in page's form.
    response = client.post(path, data={"csrf_token": auth.csrf("/anmelden")})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/anmelden?next={path}"


def test_accepting_an_invitation_leads_back_after_sign_in(client, auth):
    make_user("greta@example.org")
    path = _staff_invitation("greta@example.org", "moderator")
    response = auth.post_form(f"/anmelden?next={path}", {"email": "greta@example.org", "password": PASSWORD})
    assert response.headers["Location"] == path


def _add_member(organisation: Organisation, user: User, role: str = "member") -> OrganisationMember:
    member = OrganisationMember(organisation_id=organisation.id, user_id=user.id, role=role)
    db.session.add(member)
    db.session.commit()
    return member


def test_header_shows_whom_one_acts_for_and_switches_back_to_oneself(client, auth):
    make_user("anna@example.org")
    auth.login()
    organisation = create_org(auth)
    assert "Sie handeln für" not in client.get("/konto/").get_data(as_text=True)

    auth.post_form("/organisationen/handeln", {"organisation_id": str(organisation.id)})
    page = client.get("/konto/").get_data(as_text=True)
    assert "Sie handeln für Bäckerei Korn GmbH" in page
    assert "Wieder für mich selbst handeln" in page

    # The switch-back button in the header sends one back to the page one was on.
    response = auth.post_form("/organisationen/handeln", {"organisation_id": "", "next": "/konto/"})
    assert response.headers["Location"] == "/konto/"
    page = client.get("/konto/").get_data(as_text=True)
    assert "Sie handeln für" not in page
    assert "Sie handeln wieder für sich selbst" in page
    assert auth.post_form("/organisationen/handeln", {"next": "//evil.example/"}).headers["Location"] == (
        "/organisationen/"
    )


def test_owner_hands_the_organisation_over_to_another_member(app, client, auth):
    anna = make_user("anna@example.org")
    bob = make_user("bob@example.org", display_name="Bob")
    auth.login()
    organisation = create_org(auth)
    bobs = _add_member(organisation, bob)
    assert "Zur Inhaberin bzw. zum Inhaber machen" in client.get(f"/organisationen/{organisation.id}").get_data(
        as_text=True
    )

    response = auth.post_form(f"/organisationen/{organisation.id}/mitglieder/{bobs.id}/inhaberschaft", {})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bob ist jetzt Inhaberin bzw. Inhaber" in page
    db.session.expire_all()
    roles = dict(
        db.session.execute(
            sa.select(OrganisationMember.user_id, OrganisationMember.role).where(
                OrganisationMember.organisation_id == organisation.id
            )
        ).all()
    )
    assert roles == {anna.id: "member", bob.id: "owner"}
    assert details(events("organisation.ownership_transferred")[0])["user_id"] == bob.id
    # Anna is a plain member now: she can no longer hand it on.
    anna_member = db.session.scalar(sa.select(OrganisationMember).where(OrganisationMember.user_id == anna.id))
    again = auth.post_form(f"/organisationen/{organisation.id}/mitglieder/{anna_member.id}/inhaberschaft", {})
    assert again.status_code == 403


def test_members_cannot_make_themselves_owner(app, auth):
    make_user("anna@example.org")
    bob = make_user("bob@example.org")
    auth.login()
    organisation = create_org(auth)
    bobs = _add_member(organisation, bob)
    bob_browser = AuthActions(app.test_client())
    bob_browser.login("bob@example.org")
    response = bob_browser.post_form(f"/organisationen/{organisation.id}/mitglieder/{bobs.id}/inhaberschaft", {})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(OrganisationMember, bobs.id).role == "member"
    assert events("organisation.ownership_transferred") == []


def _path_and_query(message, path_part: str) -> str:
    from urllib.parse import urlparse

    from tests.portal.accounts.conftest import LINK_RE

    for link in LINK_RE.findall(message.body_text):
        if path_part in link:
            parts = urlparse(link)
            return f"{parts.path}?{parts.query}" if parts.query else parts.path
    raise AssertionError(f"no link containing {path_part!r}")


def test_registering_from_an_invitation_leads_back_to_it_after_verification_and_sign_in(app, auth):
    make_user("anna@example.org")
    auth.login()
    organisation = create_org(auth)
    auth.post_form(f"/organisationen/{organisation.id}/einladen", {"invite-email": "carla@example.org"})
    invitation_path = link_path(outbox_to("carla@example.org")[0], "/einladung/")

    carla = AuthActions(app.test_client())
    page = carla.client.get(invitation_path).get_data(as_text=True)
    register_href = f"/registrieren?next={invitation_path}"
    assert f'href="{register_href}"' in page
    response = carla.post_form(
        register_href,
        {
            "display_name": "Carla",
            "email": "carla@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert "Bitte sehen Sie in Ihr Postfach" in response.get_data(as_text=True)

    verify = _path_and_query(outbox_to("carla@example.org")[-1], "/email-bestaetigen/")
    assert verify.endswith(f"?next={invitation_path}")
    response = carla.post_form(verify, {})
    assert response.status_code == 302
    login_path = response.headers["Location"]
    assert login_path.startswith("/anmelden?next=")

    response = carla.post_form(login_path, {"email": "carla@example.org", "password": PASSWORD})
    assert response.headers["Location"] == invitation_path
    response = carla.post_form(invitation_path, {})
    assert response.headers["Location"] == f"/organisationen/{organisation.id}"
    carla_user = db.session.scalar(sa.select(User).where(User.email == "carla@example.org"))
    assert db.session.scalar(sa.select(OrganisationMember).where(OrganisationMember.user_id == carla_user.id))


def test_a_foreign_next_is_dropped_from_the_verification_link(auth, client):
    auth.post_form(
        "/registrieren?next=//evil.example/",
        {"display_name": "Eve", "email": "eve@example.org", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    verify = _path_and_query(outbox_to("eve@example.org")[-1], "/email-bestaetigen/")
    assert "next" not in verify and "evil" not in verify
    assert auth.post_form(verify, {}).headers["Location"] == "/anmelden"
