"""Meine Termine: a signed-in citizen views, reschedules and cancels their own bookings, authorised by the
account instead of the mailed link's token, audited as the same citizen; nobody else's."""

from __future__ import annotations

import re

from appointments.models import Booking, BookingStatus
from appointments.services.booking import hold_booking
from portal.actors import ANONYMOUS
from portal.extensions import db
from tests.appointments.web.builders import berlin, make_offers, open_tuesday, start_value, text
from tests.builders import csrf_from, make_user
from tests.portal.gdpr.builders import events


def _own_booking(offers, user) -> Booking:
    """Anna's booking at 9:00, made while signed in as `user` (None: made without signing in)."""
    return hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=berlin(open_tuesday(), 9),
        name="Anna Beispiel",
        email="anna@example.org",
        user_id=user.id if user else None,
    ).booking


def test_meine_termine_offers_view_reschedule_and_cancel_for_an_upcoming_booking(client, app, auth):
    offers = make_offers()
    user = make_user("anna@example.org")
    booking = _own_booking(offers, user)
    auth.login("anna@example.org")

    html = client.get("/termine/meine").get_data(as_text=True)
    for path in ("", "/verschieben", "/absagen"):
        assert f'href="/termine/meine/{booking.reference}{path}"' in html

    page = client.get(f"/termine/meine/{booking.reference}")
    assert page.status_code == 200
    assert f"Ihr Termin {booking.reference}" in text(page)
    assert "/termine/verwalten/" not in page.get_data(as_text=True)  # no token link needed here


def test_a_signed_in_citizen_reschedules_through_the_check_step_and_it_is_audited_as_them(client, app, auth):
    offers = make_offers()
    user = make_user("anna@example.org")
    booking = _own_booking(offers, user)
    auth.login("anna@example.org")
    day = open_tuesday()
    base = f"/termine/meine/{booking.reference}"

    picker = client.get(f"{base}/verschieben?ab={day}&tag={day}").get_data(as_text=True)
    new_start = berlin(day, 11)
    check = client.post(f"{base}/verschieben", data={"csrf_token": csrf_from(picker), "start": start_value(new_start)})
    assert "Prüfen Sie den neuen Termin" in text(check)
    moved = client.post(
        f"{base}/verschieben",
        data={
            "csrf_token": csrf_from(check.get_data(as_text=True)),
            "start": start_value(new_start),
            "confirmed": "ja",
        },
    )
    assert moved.headers["Location"] == base
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == new_start
    [event] = events("appointment.rescheduled")
    assert event.actor_type == "user" and event.actor_id == str(user.id)


def test_a_signed_in_citizen_cancels_after_the_question(client, app, auth):
    offers = make_offers()
    user = make_user("anna@example.org")
    booking = _own_booking(offers, user)
    auth.login("anna@example.org")
    base = f"/termine/meine/{booking.reference}"

    question = client.get(f"{base}/absagen")
    assert "Möchten Sie diesen Termin absagen?" in text(question)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status != BookingStatus.CANCELLED
    done = client.post(f"{base}/absagen", data={"csrf_token": csrf_from(question.get_data(as_text=True))})
    assert done.headers["Location"] == base
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED
    [event] = events("appointment.cancelled")
    assert event.actor_id == str(user.id)


def test_someone_elses_booking_is_not_found_under_meine_termine(client, app, auth):
    offers = make_offers()
    owner = make_user("anna@example.org")
    booking = _own_booking(offers, owner)
    make_user("max@example.org")
    auth.login("max@example.org")
    for path in ("", "/verschieben", "/absagen", "/termin.ics"):
        assert client.get(f"/termine/meine/{booking.reference}{path}").status_code == 404
    token = csrf_from(client.get("/termine/meine").get_data(as_text=True))
    assert client.post(f"/termine/meine/{booking.reference}/absagen", data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status != BookingStatus.CANCELLED


def test_a_booking_made_without_signing_in_is_not_the_accounts(client, app, auth):
    offers = make_offers()
    make_user("anna@example.org")
    anonymous = _own_booking(offers, None)  # the same address, but not booked with the account
    auth.login("anna@example.org")
    assert client.get(f"/termine/meine/{anonymous.reference}").status_code == 404
    assert not re.search(anonymous.reference or "-", text(client.get("/termine/meine")))


def test_meine_termine_pages_ask_to_sign_in(client, app):
    offers = make_offers()
    booking = _own_booking(offers, make_user("anna@example.org"))
    response = client.get(f"/termine/meine/{booking.reference}")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]
