"""A booking made while acting for a business belongs to it: check page, confirmation, stored row, its list."""

from __future__ import annotations

import json

from appointments.models import Booking
from portal.accounts.models import Organisation, OrganisationMember
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.appointments.web.builders import Wizard, berlin, make_offers, open_tuesday, text
from tests.builders import AuthActions, make_user


def _business(*members: tuple[int, str]) -> Organisation:
    organisation = Organisation(name="Muster Bau GmbH")
    for user_id, role in members:
        organisation.members.append(OrganisationMember(user_id=user_id, role=role))
    db.session.add(organisation)
    db.session.commit()
    return organisation


def _book_as(client, auth: AuthActions, offers, organisation: Organisation | None):
    if organisation is not None:
        auth.post_form("/organisationen/handeln", {"organisation_id": str(organisation.id)})
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.nord)
    wizard.time(berlin(open_tuesday(), 9))
    wizard.details(name="Anna Beispiel", email="anna@example.org")
    return wizard


def test_a_booking_made_for_a_business_names_it_and_belongs_to_it(client, app, auth):
    offers = make_offers()
    anna = make_user("anna@example.org", display_name="Anna Beispiel")
    organisation = _business((anna.id, "member"))
    auth.login()
    wizard = _book_as(client, auth, offers, organisation)

    check = text(client.get("/termine/buchen/pruefen"))
    assert "Gebucht für Muster Bau GmbH" in check

    assert wizard.book().headers["Location"] == "/termine/buchen/gebucht"
    booking = db.session.execute(db.select(Booking)).scalar_one()
    assert booking.organisation_id == organisation.id
    assert booking.user_id == anna.id
    assert "Gebucht für Muster Bau GmbH" in text(client.get("/termine/buchen/gebucht"))
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "appointment.booked")).scalar_one()
    assert json.loads(event.details)["organisation_id"] == organisation.id


def test_a_booking_made_for_oneself_names_no_business(client, app, auth):
    offers = make_offers()
    anna = make_user("anna@example.org", display_name="Anna Beispiel")
    _business((anna.id, "owner"))
    auth.login()
    wizard = _book_as(client, auth, offers, None)
    assert "Gebucht für" not in text(client.get("/termine/buchen/pruefen"))
    wizard.book()
    assert db.session.execute(db.select(Booking)).scalar_one().organisation_id is None


def test_members_see_the_business_bookings_and_others_do_not(client, app, auth):
    offers = make_offers()
    anna = make_user("anna@example.org", display_name="Anna Beispiel")
    owner = make_user("olga@example.org", display_name="Olga Inhaber")
    make_user("eve@example.org")
    organisation = _business((anna.id, "member"), (owner.id, "owner"))
    auth.login()
    _book_as(client, auth, offers, organisation).book()
    booking = db.session.execute(db.select(Booking)).scalar_one()

    olga = AuthActions(app.test_client())
    olga.login("olga@example.org")
    detail = olga.client.get(f"/organisationen/{organisation.id}").get_data(as_text=True)
    assert f"/termine/organisation/{organisation.id}" in detail
    listing = olga.client.get(f"/termine/organisation/{organisation.id}")
    assert listing.status_code == 200
    assert booking.reference in text(listing)
    assert "Anna Beispiel" in text(listing)

    eve = AuthActions(app.test_client())
    eve.login("eve@example.org")
    assert eve.client.get(f"/termine/organisation/{organisation.id}").status_code == 404
