"""Staff: invitations by mail, granting and revoking roles, and the last platform admin."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from portal.accounts.models import DepartmentMembership, Invitation, User, UserRole
from portal.actors import Actor
from portal.admin.services import AdminError, staff
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow
from tests.builders import make_user
from tests.portal.admin.conftest import audit_events, post_form

LINK_RE = re.compile(r"http://127\.0\.0\.1:5000/einladung/([A-Za-z0-9_-]{40,})")


def test_staff_invitation_creates_an_invitation_and_queues_a_mail_with_the_link(
    client, as_user, department_admin, buergeramt
):
    as_user(department_admin)
    staff_page = f"/admin/aemter/{buergeramt.id}/personal"
    response = post_form(
        client,
        f"/admin/aemter/{buergeramt.id}/personal/einladen",
        {"invite-email": "Neu.Kollegin@Stadt.example", "invite-role": "clerk"},
        staff_page,
    )
    assert response.status_code == 302
    page = client.get(staff_page).get_data(as_text=True)
    assert "Die Einladung an neu.kollegin@stadt.example wurde verschickt." in page
    assert "Offene Einladungen" in page and "neu.kollegin@stadt.example" in page

    invitation = db.session.scalar(sa.select(Invitation))
    assert (invitation.kind, invitation.role, invitation.department_id) == ("staff", "clerk", buergeramt.id)
    assert invitation.invited_by_id == department_admin.id
    assert abs(invitation.expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)

    [mail] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert mail.recipient == "neu.kollegin@stadt.example" and mail.status == "pending"
    match = LINK_RE.search(mail.body_text)
    assert match, mail.body_text
    assert hashlib.sha256(match.group(1).encode()).hexdigest() == invitation.token_hash
    assert match.group(0) in (mail.body_html or "")
    assert "Sachbearbeitung" in mail.body_text and "Bürgeramt" in mail.body_text

    [(event, details)] = audit_events("invitation.created")
    assert details == {
        "kind": "staff",
        "email": "neu.kollegin@stadt.example",
        "role": "clerk",
        "department_id": buergeramt.id,
    }
    assert match.group(1) not in event.details


def test_second_invitation_for_the_same_role_is_refused_next_to_the_field(
    client, as_user, department_admin, buergeramt
):
    actor = Actor.for_user(department_admin)
    staff.invite_staff(actor, "neu@stadt.example", "clerk", buergeramt.id)
    as_user(department_admin)
    response = post_form(
        client,
        f"/admin/aemter/{buergeramt.id}/personal/einladen",
        {"invite-email": "neu@stadt.example", "invite-role": "clerk"},
        f"/admin/aemter/{buergeramt.id}/personal",
    )
    page = response.get_data(as_text=True)
    assert 'id="invite-email-error"' in page and "bereits eingeladen" in page
    assert 'value="neu@stadt.example"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 1


def test_revoked_invitation_is_no_longer_open(client, as_user, department_admin, buergeramt):
    invitation = staff.invite_staff(Actor.for_user(department_admin), "neu@stadt.example", "clerk", buergeramt.id)
    as_user(department_admin)
    staff_page = f"/admin/aemter/{buergeramt.id}/personal"
    response = post_form(client, f"/admin/einladungen/{invitation.id}/zurueckziehen", {}, staff_page)
    assert response.status_code == 302
    page = client.get(staff_page).get_data(as_text=True)
    assert "wurde zurückgezogen" in page and "Keine offenen Einladungen." in page
    [(_event, details)] = audit_events("invitation.revoked")
    assert details["email"] == "neu@stadt.example"


def test_department_admin_cannot_touch_staff_of_another_department(client, as_user, department_admin, bauamt):
    as_user(department_admin)
    assert client.get(f"/admin/aemter/{bauamt.id}/personal").status_code == 403
    with pytest.raises(Forbidden):
        staff.invite_staff(Actor.for_user(department_admin), "x@stadt.example", "clerk", bauamt.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_department_admin_cannot_grant_or_invite_global_roles(client, as_user, department_admin, buergeramt):
    target = make_user("kollege@stadt.example")
    as_user(department_admin)
    token_page = f"/admin/aemter/{buergeramt.id}/personal"
    assert client.get("/admin/personal").status_code == 403
    response = post_form(
        client, "/admin/personal/rolle-vergeben", {"grant-email": target.email, "grant-role": "moderator"}, token_page
    )
    assert response.status_code == 403
    response = post_form(
        client,
        "/admin/personal/einladen",
        {"invite-email": "x@stadt.example", "invite-role": "platform_admin"},
        token_page,
    )
    assert response.status_code == 403
    actor = Actor.for_user(department_admin)
    for role in ("moderator", "treasury", "dpo", "platform_admin"):
        with pytest.raises(Forbidden):
            staff.grant_role(actor, target.email, role)
    db.session.expire_all()
    assert db.session.get(User, target.id).roles == []
    assert audit_events("role.granted") == []


def test_granting_and_revoking_a_department_role_is_audited_with_the_person(
    client, as_user, department_admin, buergeramt
):
    target = make_user("kollege@stadt.example", display_name="Karl Kollege")
    as_user(department_admin)
    staff_page = f"/admin/aemter/{buergeramt.id}/personal"
    response = post_form(
        client,
        f"/admin/aemter/{buergeramt.id}/personal/rolle-vergeben",
        {"grant-email": "kollege@stadt.example", "grant-role": "data_steward"},
        staff_page,
    )
    assert response.status_code == 302
    page = client.get(staff_page).get_data(as_text=True)
    assert "Karl Kollege" in page and "Datenverantwortung" in page
    [(granted, details)] = audit_events("role.granted")
    assert granted.subject_user_id == target.id
    assert details == {"role": "data_steward", "department_id": buergeramt.id}

    response = post_form(
        client,
        f"/admin/aemter/{buergeramt.id}/personal/rolle-entziehen",
        {"user_id": str(target.id), "role": "data_steward"},
        staff_page,
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalars(sa.select(DepartmentMembership).where(DepartmentMembership.user_id == target.id)).all() == []
    )
    [(revoked, details)] = audit_events("role.revoked")
    assert revoked.subject_user_id == target.id
    assert details == {"role": "data_steward", "department_id": buergeramt.id}


def test_grant_to_an_unknown_address_shows_the_error_next_to_the_field(client, as_user, department_admin, buergeramt):
    as_user(department_admin)
    response = post_form(
        client,
        f"/admin/aemter/{buergeramt.id}/personal/rolle-vergeben",
        {"grant-email": "niemand@stadt.example", "grant-role": "clerk"},
        f"/admin/aemter/{buergeramt.id}/personal",
    )
    page = response.get_data(as_text=True)
    assert 'id="grant-email-error"' in page and "Laden Sie die Person stattdessen ein" in page
    assert 'value="niemand@stadt.example"' in page


def test_platform_admin_grants_a_global_role(client, as_user, platform_admin):
    target = make_user("kasse@stadt.example")
    as_user(platform_admin)
    response = post_form(
        client, "/admin/personal/rolle-vergeben", {"grant-email": target.email, "grant-role": "treasury"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).global_roles == {"treasury"}
    assert "kasse@stadt.example" in client.get("/admin/personal").get_data(as_text=True)


def test_the_last_platform_admin_cannot_be_demoted(client, as_user, platform_admin):
    as_user(platform_admin)
    response = post_form(
        client, "/admin/personal/rolle-entziehen", {"user_id": str(platform_admin.id), "role": "platform_admin"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "letzte Plattform-Administration" in page
    db.session.expire_all()
    assert db.session.get(User, platform_admin.id).global_roles == {"platform_admin"}
    assert audit_events("role.revoked") == []
    with pytest.raises(AdminError):
        staff.revoke_role(Actor.for_user(platform_admin), platform_admin.id, "platform_admin")


def test_a_platform_admin_can_be_demoted_while_another_remains(client, as_user, platform_admin):
    second = make_user("zweite@stadt.example", roles=("platform_admin",), totp=True)
    as_user(platform_admin)
    response = post_form(
        client, "/admin/personal/rolle-entziehen", {"user_id": str(second.id), "role": "platform_admin"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(sa.select(UserRole.user_id)).all() == [platform_admin.id]
    [(event, details)] = audit_events("role.revoked")
    assert event.subject_user_id == second.id and details["role"] == "platform_admin"
    # Now the remaining one is the last.
    with pytest.raises(AdminError):
        staff.revoke_role(Actor.for_user(platform_admin), platform_admin.id, "platform_admin")


def test_inviting_someone_who_already_has_the_role_is_refused(app, department_admin, buergeramt):
    clerk = make_user("clerk@stadt.example", department=buergeramt, department_role="clerk", totp=True)
    with pytest.raises(AdminError) as refused:
        staff.invite_staff(Actor.for_user(department_admin), clerk.email.upper(), "clerk", buergeramt.id)
    assert refused.value.field == "email"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
