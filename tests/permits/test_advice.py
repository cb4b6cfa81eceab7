"""The advisory appointment of a special-use permit (issue 10): the applicant books it from the case's pages through
the appointments service, the booking is linked to the case, and both the applicant and the clerk see it there."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from appointments.errors import BookingError
from appointments.models import Booking
from appointments.services import booking as booking_service
from appointments.services import case_links
from permits.services import advice, applications
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.appointments.web.builders import Wizard, berlin, open_tuesday
from tests.builders import PASSWORD, AuthActions, make_user
from tests.permits.builders import make_draft

SUBMITTED_ON = date(2026, 5, 4)  # before the builders' June period, with its lead time
BOOK_LINK = re.compile(r'id="beratung-buchen" href="([^"]+)"')


@pytest.fixture
def advice_desk(world):
    """The Tiefbauamt's "Beratung Sondernutzung" at the Technisches Rathaus (the demo's name for it)."""
    location = make_bookable_location(department=world.department, name="Technisches Rathaus", counters=1)
    service = make_catalogue_service(world.department, "Beratung Sondernutzung")
    offer(location, service, minutes=30)
    return location, service


def _signed_in(app, user) -> AuthActions:
    person = AuthActions(app.test_client())
    person.login(user.email, PASSWORD)
    if user.totp_secret:
        person.totp(user)
    return person


def _submitted(world):
    return applications.submit(world.applicant_actor, make_draft(world.applicant_actor), today=SUBMITTED_ON)


def _book_from(person: AuthActions, page_url: str, location, service, hour: int = 9):
    """Follow the case page's link into the booking pages and book the first Tuesday's `hour` o'clock."""
    link = BOOK_LINK.search(person.client.get(page_url).text)
    assert link is not None, "the case page offers no advisory appointment"
    url = link.group(1).replace("&amp;", "&")
    wizard = Wizard(person.client)
    assert person.client.get(url).status_code == 200
    wizard.services((service, 1))
    wizard.location(location)
    wizard.time(berlin(open_tuesday(), hour))
    wizard.details(name="Erika Antrag", email="antrag@example.org")
    check = person.client.get("/termine/buchen/pruefen").text
    return check, wizard.book()


def test_the_applicant_books_advice_for_a_submitted_case_and_both_sides_see_it(app, world, advice_desk):
    location, service = advice_desk
    application = _submitted(world)
    applicant = _signed_in(app, world.applicant)
    case_url = f"/sondernutzung/antraege/{application.public_id}"

    check, booked = _book_from(applicant, case_url, location, service)
    assert f"Antrag auf Sondernutzung {application.reference}" in check  # the check page names the case
    assert booked.status_code == 302
    booking = db.session.scalars(sa.select(Booking)).one()
    assert booking.case_key == f"permit:{application.public_id}"
    done = applicant.client.get("/termine/buchen/gebucht").text
    assert f'href="{case_url}"' in done  # and the done page links back to it

    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "appointment.booked")).one()
    assert json.loads(event.details)["case"] == booking.case_key  # audited with the booking, in its transaction
    assert booking.reference in applicant.client.get(case_url).text
    clerk = _signed_in(app, world.officer)
    desk_page = clerk.client.get(f"/sondernutzung/amt/{application.public_id}").text
    assert booking.reference in desk_page and "Technisches Rathaus" in desk_page


def test_a_draft_can_have_its_advice_too_and_keeps_it_when_submitted(app, world, advice_desk):
    location, service = advice_desk
    draft = make_draft(world.applicant_actor)
    applicant = _signed_in(app, world.applicant)
    check, booked = _book_from(applicant, f"/sondernutzung/antraege/{draft.public_id}/aufgaben", location, service)
    assert "Ihr Antrag auf Sondernutzung (Entwurf)" in check and booked.status_code == 302
    submitted = applications.submit(world.applicant_actor, draft, today=SUBMITTED_ON)
    [linked] = advice.for_officer(submitted)
    assert linked.location == "Technisches Rathaus"


def test_someone_elses_case_is_not_linked(app, world, advice_desk):
    location, service = advice_desk
    application = _submitted(world)
    other = make_user("andere@example.org")
    person = _signed_in(app, other)
    wizard = Wizard(person.client)
    person.client.get(f"/termine/buchen?leistung={service.id}&fall=permit:{application.public_id}")
    wizard.services((service, 1))
    wizard.location(location)
    wizard.time(berlin(open_tuesday(), 10))
    wizard.details(name="Andere Person", email="andere@example.org")
    assert "Antrag auf Sondernutzung" not in person.client.get("/termine/buchen/pruefen").text
    assert wizard.book().status_code == 302
    assert db.session.scalars(sa.select(Booking)).one().case_key is None
    assert advice.for_officer(application) == []


def test_the_service_refuses_a_case_key_the_booker_may_not_use(app, world, advice_desk):
    location, service = advice_desk
    application = _submitted(world)
    key = advice.case_key(application)
    stranger = Actor.for_user(make_user("fremd@example.org"))
    for actor, case_key in ((stranger, key), (world.applicant_actor, "permit:" + "0" * 32), (stranger, "nope")):
        with pytest.raises(BookingError) as refused:
            booking_service.hold_booking(
                actor,
                location_id=location.id,
                items=[(service.id, 1)],
                start=berlin(open_tuesday(), 11),
                name="X Y",
                email="x@example.org",
                case_key=case_key,
            )
        assert refused.value.field == "case"
    assert db.session.scalars(sa.select(Booking)).all() == []  # nothing held


def test_no_advice_is_offered_once_the_case_is_withdrawn(app, world, advice_desk):
    application = _submitted(world)
    applications.withdraw(world.applicant_actor, application)
    applicant = _signed_in(app, world.applicant)
    assert BOOK_LINK.search(applicant.client.get(f"/sondernutzung/antraege/{application.public_id}").text) is None
    assert case_links.resolve(world.applicant_actor, advice.case_key(application)) is None


def test_without_a_bookable_advice_service_the_page_offers_none(app, world):
    application = _submitted(world)
    applicant = _signed_in(app, world.applicant)
    page = applicant.client.get(f"/sondernutzung/antraege/{application.public_id}").text
    assert BOOK_LINK.search(page) is None and "Beratungstermin" not in page


def test_the_building_advice_link_works_in_english_too(app, client):
    """The advice services are found by their configured German name, whatever the reader's language."""
    from building import services as building
    from tests.builders import make_department

    department = make_department("bauordnung", "Bauordnung")
    location = make_bookable_location(department=department, name="Technisches Rathaus")
    service = make_catalogue_service(department, "Beratung Bauantrag")
    service.name_en = "Building application advice"
    db.session.commit()
    offer(location, service)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        from flask_babel import refresh

        refresh()
        from appointments.services import catalogue

        assert [s.name for s in catalogue.offered_services()] == ["Building application advice"]  # read in English
        assert building.advice_service_id() == service.id
