"""An owner withdraws an open invitation: its link stops working, and the withdrawal is audited."""

from __future__ import annotations

import sqlalchemy as sa

from portal.accounts.models import Invitation, OrganisationMember
from portal.extensions import db
from tests.builders import AuthActions, make_user
from tests.portal.accounts.conftest import details, events, link_path, outbox_to
from tests.portal.accounts.test_organisations import create_org


def _invite(auth, organisation_id: int, email: str = "bob@example.org") -> Invitation:
    response = auth.post_form(f"/organisationen/{organisation_id}/einladen", {"invite-email": email})
    assert response.status_code == 302
    return db.session.scalar(sa.select(Invitation).where(Invitation.email == email))


def test_an_owner_withdraws_an_open_invitation_and_its_link_stops_working(app, client, auth):
    make_user("anna@example.org")
    make_user("bob@example.org")
    auth.login()
    organisation = create_org(auth)
    invitation = _invite(auth, organisation.id)
    link = link_path(outbox_to("bob@example.org")[-1], "/einladung/")
    page = client.get(f"/organisationen/{organisation.id}").get_data(as_text=True)
    assert "bob@example.org" in page and "Zurückziehen" in page

    url = f"/organisationen/{organisation.id}/einladungen/{invitation.id}/zurueckziehen"
    response = client.post(url, data={"csrf_token": auth.csrf(f"/organisationen/{organisation.id}")})
    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None
    [event] = events("invitation.revoked")
    assert details(event)["organisation_id"] == organisation.id
    assert details(event)["email"] == "bob@example.org"
    assert "Zurückziehen" not in client.get(f"/organisationen/{organisation.id}").get_data(as_text=True)

    bob = AuthActions(app.test_client())
    bob.login("bob@example.org")
    assert bob.client.get(link).status_code == 404
    assert db.session.scalar(sa.select(OrganisationMember).where(OrganisationMember.role == "member")) is None


def test_only_the_owner_withdraws_and_only_open_invitations(app, client, auth):
    make_user("anna@example.org")
    bob = make_user("bob@example.org")
    auth.login()
    organisation = create_org(auth)
    invitation = _invite(auth, organisation.id, "carl@example.org")
    db.session.add(OrganisationMember(organisation_id=organisation.id, user_id=bob.id, role="member"))
    db.session.commit()
    url = f"/organisationen/{organisation.id}/einladungen/{invitation.id}/zurueckziehen"

    bob_browser = AuthActions(app.test_client())
    bob_browser.login("bob@example.org")
    refused = bob_browser.client.post(url, data={"csrf_token": bob_browser.csrf(f"/organisationen/{organisation.id}")})
    assert refused.status_code == 403
    db.session.refresh(invitation)
    assert invitation.revoked_at is None

    token = auth.csrf(f"/organisationen/{organisation.id}")
    client.post(url, data={"csrf_token": token})
    again = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert "nicht mehr offen" in again.get_data(as_text=True)
    assert len(events("invitation.revoked")) == 1
