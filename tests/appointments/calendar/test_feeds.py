"""Clerks subscribe to their location's appointments by a secret, revocable URL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from werkzeug.exceptions import Forbidden

from appointments.models import BookingStatus, CalendarFeed
from appointments.services import feeds
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import BERLIN
from tests.appointments.builders import make_bookable_location, make_catalogue_service
from tests.appointments.calendar.builders import make_booking
from tests.appointments.calendar.helpers import audit_events, post_form, sign_in
from tests.builders import make_department, make_user

FEED_URL_RE = re.compile(r"(http://[^<\s]+/termine/kalender/[A-Za-z0-9_-]+\.ics)")


@pytest.fixture
def mitte(app):
    department = make_department()
    return make_bookable_location(department=department)


@pytest.fixture
def clerk(mitte):
    return make_user(
        "clerk@stadt.example", department=mitte.department, department_role="clerk", totp=True, display_name="Clara"
    )


def _subscribe(client, location_id: int, show_names: bool = False) -> str:
    data = {"location_id": str(location_id)}
    if show_names:
        data["show_names"] = "y"
    response = post_form(client, "/termine/kalender/", data)
    assert response.status_code == 201, response.get_data(as_text=True)
    match = FEED_URL_RE.search(response.get_data(as_text=True))
    assert match, "the new feed address is shown"
    return match.group(1).split("localhost", 1)[-1]


def _bookings(location):
    service = make_catalogue_service(location.department, "Personalausweis")
    now = datetime.now(BERLIN)
    return {
        "soon": make_booking(location, [(service, 1)], now + timedelta(days=3), reference="T-2026-000001"),
        "last_week": make_booking(location, [(service, 1)], now - timedelta(days=5), reference="T-2026-000002"),
        "long_ago": make_booking(location, [(service, 1)], now - timedelta(days=9), reference="T-2026-000003"),
        "far_ahead": make_booking(location, [(service, 1)], now + timedelta(days=61), reference="T-2026-000004"),
        "cancelled": make_booking(
            location,
            [(service, 1)],
            now + timedelta(days=2),
            reference="T-2026-000005",
            status=BookingStatus.CANCELLED,
        ),
    }


def test_clerk_subscribes_and_the_feed_lists_the_window_without_names(app, client, mitte, clerk):
    bookings = _bookings(mitte)
    sign_in(client, clerk)

    path = _subscribe(client, mitte.id)
    response = app.test_client().get(path)  # a calendar client: no session, only the token

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    assert calendar["METHOD"] == "PUBLISH"
    assert {str(e["UID"]) for e in calendar.events} == {bookings["soon"].uid, bookings["last_week"].uid}
    assert "Erika" not in response.get_data(as_text=True)
    summaries = sorted(str(e["SUMMARY"]) for e in calendar.events)
    assert summaries == ["Termin T-2026-000001: Personalausweis", "Termin T-2026-000002: Personalausweis"]


def test_feed_with_names_opt_in_shows_names(client, mitte, clerk):
    _bookings(mitte)
    sign_in(client, clerk)

    path = _subscribe(client, mitte.id, show_names=True)
    response = client.get(path)

    assert "Erika Mustermann" in response.get_data(as_text=True)


def test_feed_token_is_stored_hashed_and_fetch_is_recorded_but_not_audited(client, mitte, clerk):
    sign_in(client, clerk)
    path = _subscribe(client, mitte.id)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    client.get(path)
    client.get(path)

    feed = db.session.scalars(db.select(CalendarFeed)).one()
    db.session.refresh(feed)
    assert feed.token_hash != token and token not in feed.token_hash
    assert feed.last_fetched_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before
    assert audit_events("appointment.feed_created") == [{"location_id": mitte.id, "show_names": False}]
    assert audit_events("appointment.feed_revoked") == []


def test_revoked_feed_is_gone(client, mitte, clerk):
    sign_in(client, clerk)
    path = _subscribe(client, mitte.id)
    feed = db.session.scalars(db.select(CalendarFeed)).one()

    response = post_form(client, f"/termine/kalender/{feed.id}/widerrufen", {}, page="/termine/kalender/")

    assert response.status_code == 302
    assert client.get(path).status_code == 404
    assert audit_events("appointment.feed_revoked") == [{"location_id": mitte.id}]
    assert "noch kein Kalender-Abonnement" in client.get("/termine/kalender/").get_data(as_text=True)


def test_unknown_token_is_404(client, mitte):
    assert client.get("/termine/kalender/nicht-geheim.ics").status_code == 404


def test_clerk_of_another_department_cannot_subscribe(client, mitte):
    other = make_department("bauordnung", "Bauordnungsamt")
    outsider = make_user("bau@stadt.example", department=other, department_role="clerk", totp=True)
    sign_in(client, outsider)

    page = client.get("/termine/kalender/").get_data(as_text=True)
    response = post_form(client, "/termine/kalender/", {"location_id": str(mitte.id)})

    assert "Bürgerbüro Mitte" not in page
    assert response.status_code == 422
    assert db.session.scalars(db.select(CalendarFeed)).all() == []


def test_feed_stops_when_the_clerk_leaves_the_department(client, mitte, clerk):
    sign_in(client, clerk)
    path = _subscribe(client, mitte.id)

    for membership in list(clerk.memberships):
        db.session.delete(membership)
    db.session.commit()

    assert client.get(path).status_code == 404


def test_someone_elses_feed_cannot_be_revoked(client, mitte, clerk):
    sign_in(client, clerk)
    _subscribe(client, mitte.id)
    feed = db.session.scalars(db.select(CalendarFeed)).one()
    colleague = make_user("kollege@stadt.example", department=mitte.department, department_role="clerk", totp=True)
    sign_in(client, colleague)

    response = post_form(client, f"/termine/kalender/{feed.id}/widerrufen", {}, page="/termine/kalender/")

    assert response.status_code == 404
    db.session.refresh(feed)
    assert feed.revoked_at is None


def test_citizen_without_staff_role_is_refused(client, mitte):
    citizen = make_user("buerger@example.org")
    sign_in(client, citizen)

    assert client.get("/termine/kalender/").status_code == 403


def test_service_refuses_a_feed_for_another_departments_location(mitte):
    other = make_department("bauordnung", "Bauordnungsamt")
    outsider = make_user("bau@stadt.example", department=other, department_role="clerk", totp=True)

    with pytest.raises(Forbidden):
        feeds.create_feed(Actor.for_user(outsider), mitte.id, show_names=True)
    assert audit_events("appointment.feed_created") == []
