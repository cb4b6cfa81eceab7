"""The pages behind the mailed links: confirm (by POST only), view, calendar file, reschedule, cancel."""

from __future__ import annotations

import json
import re

import pytest
from icalendar import Calendar

from appointments.models import Booking, BookingStatus
from appointments.services.booking import HeldBooking, hold_booking
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.appointments.web.builders import Offers, Wizard, berlin, make_offers, open_tuesday, start_value, text
from tests.builders import csrf_from


def _hold(offers: Offers, hour: int = 9) -> HeldBooking:
    return hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=berlin(open_tuesday(), hour),
        name="Erika Mustermann",
        email="erika@example.org",
    )


def _urls(held: HeldBooking) -> tuple[str, str]:
    reference = held.booking.reference
    return (
        f"/termine/bestaetigen/{reference}/{held.manage_token}",
        f"/termine/verwalten/{reference}/{held.manage_token}",
    )


def _fresh(held: HeldBooking) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, held.booking.id)


def test_opening_the_confirm_link_changes_nothing_and_the_button_confirms(client, app):
    offers = make_offers(confirm_within_minutes=30)
    held = _hold(offers)
    confirm_url, manage_url = _urls(held)
    assert held.booking.status == BookingStatus.RESERVED

    page = client.get(confirm_url)  # what a mail scanner does
    assert page.status_code == 200
    assert "Termin bestätigen" in text(page)
    assert _fresh(held).status == BookingStatus.RESERVED

    confirmed = client.post(confirm_url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert confirmed.headers["Location"] == manage_url
    assert _fresh(held).status == BookingStatus.CONFIRMED
    manage = client.get(manage_url)
    assert "Vielen Dank. Ihr Termin ist bestätigt." in text(manage)
    assert "Bestätigt" in text(manage)
    assert "Dieser Termin ist bereits bestätigt." in text(client.get(confirm_url))


def test_the_booked_page_of_a_booking_to_be_confirmed_does_not_reveal_the_link_that_confirms(client, app):
    offers = make_offers(confirm_within_minutes=30)
    wizard = Wizard(client)
    wizard.all_steps(offers, berlin(open_tuesday(), 9))
    done = client.get("/termine/buchen/gebucht")
    assert "Bitte bestätigen Sie den Termin über den Link darin" in text(done)
    assert "/termine/verwalten/" not in done.get_data(as_text=True)
    assert "/termine/bestaetigen/" not in done.get_data(as_text=True)
    # The session cookie (signed, readable) carries the token only encrypted.
    [mail] = db.session.execute(db.select(OutboxMessage)).scalars().all()
    [token] = re.findall(r"/termine/bestaetigen/[^/]+/([A-Za-z0-9_-]+)", mail.body_text)
    cookie = client.get_cookie("session")
    assert cookie is not None
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert session["termin_gebucht"]["reference"] in mail.subject
    assert token not in json.dumps(session)
    assert client.get("/termine/buchen/gebucht/termin.ics").mimetype == "text/calendar"


def test_the_manage_page_shows_the_booking_and_offers_the_calendar_file(client, app):
    offers = make_offers()
    held = _hold(offers)
    _confirm_url, manage_url = _urls(held)
    page = client.get(manage_url)
    assert page.status_code == 200
    for expected in (
        held.booking.reference,
        "Bestätigt",
        "Personalausweis beantragen",
        "Bürgerbüro Mitte",
        "Rathausplatz 1, 01067 Musterstadt",
        "09:00 Uhr",
        "15 Minuten",
    ):
        assert expected in text(page)
    html = page.get_data(as_text=True)
    assert f'href="{manage_url}/verschieben"' in html and f'href="{manage_url}/absagen"' in html

    ics = client.get(f"{manage_url}/termin.ics")
    assert ics.mimetype == "text/calendar"
    assert "attachment" in ics.headers["Content-Disposition"]
    calendar = Calendar.from_ical(ics.data)
    assert calendar["METHOD"] == "REQUEST"
    assert str(calendar.events[0]["UID"]) == held.booking.uid


@pytest.mark.parametrize("suffix", ["", "/termin.ics", "/verschieben", "/absagen"])
def test_a_wrong_token_is_not_found(client, app, suffix):
    offers = make_offers()
    held = _hold(offers)
    assert client.get(f"/termine/verwalten/{held.booking.reference}/falsch{suffix}").status_code == 404
    assert client.get(f"/termine/verwalten/T-2026-999999/{held.manage_token}{suffix}").status_code == 404


def test_a_wrong_token_cannot_confirm(client, app):
    offers = make_offers(confirm_within_minutes=30)
    held = _hold(offers)
    assert client.get(f"/termine/bestaetigen/{held.booking.reference}/falsch").status_code == 404
    token = csrf_from(client.get("/termine/buchen").get_data(as_text=True))
    assert (
        client.post(f"/termine/bestaetigen/{held.booking.reference}/falsch", data={"csrf_token": token}).status_code
        == 404
    )
    assert _fresh(held).status == BookingStatus.RESERVED


def test_a_citizen_reschedules_with_the_calendar_and_the_file_keeps_its_uid(client, app):
    offers = make_offers()
    held = _hold(offers)
    _confirm_url, manage_url = _urls(held)
    day = open_tuesday()
    page = client.get(f"{manage_url}/verschieben?ab={day}&tag={day}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    values = re.findall(r'type="radio" value="([^"]+)"', html)
    new_start = berlin(day, 11)
    assert start_value(new_start) in values
    assert start_value(berlin(day, 9)) not in values  # the current time is not offered as a new one

    check = client.post(
        f"{manage_url}/verschieben?ab={day}&tag={day}",
        data={"csrf_token": csrf_from(html), "start": start_value(new_start)},
    )
    # First the check: old and new time side by side, nothing moved yet.
    assert check.status_code == 200
    assert "Prüfen Sie den neuen Termin" in text(check)
    assert re.search(r"Bisheriger Termin \w+\., \d+\. \w+ \d{4}, 09:00 Uhr", text(check))
    assert re.search(r"Neuer Termin \w+\., \d+\. \w+ \d{4}, 11:00 Uhr", text(check))
    assert _fresh(held).starts_at == berlin(day, 9)
    check_html = check.get_data(as_text=True)
    assert f'name="start" value="{start_value(new_start)}"' in check_html
    moved = client.post(
        f"{manage_url}/verschieben",
        data={"csrf_token": csrf_from(check_html), "start": start_value(new_start), "confirmed": "ja"},
    )
    assert moved.headers["Location"] == manage_url
    booking = _fresh(held)
    assert booking.starts_at == new_start
    assert booking.sequence == 1
    assert "Ihr Termin ist verschoben" in text(client.get(manage_url))
    calendar = Calendar.from_ical(client.get(f"{manage_url}/termin.ics").data)
    assert str(calendar.events[0]["UID"]) == booking.uid
    assert int(calendar.events[0]["SEQUENCE"]) == 1


def test_rescheduling_onto_a_taken_time_keeps_the_old_one_and_says_so(client, app):
    offers = make_offers()
    held = _hold(offers)
    _confirm_url, manage_url = _urls(held)
    day = open_tuesday()
    page = client.get(f"{manage_url}/verschieben?ab={day}&tag={day}").get_data(as_text=True)
    taken_start = berlin(day, 11)
    hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=taken_start,
        name="M",
        email="m@example.org",
    )
    refused = client.post(
        f"{manage_url}/verschieben?ab={day}&tag={day}",
        data={"csrf_token": csrf_from(page), "start": start_value(taken_start), "confirmed": "ja"},
    )
    assert refused.status_code == 409
    assert "Diese Zeit wurde gerade vergeben" in text(refused)
    assert _fresh(held).starts_at == berlin(day, 9)


def test_cancelling_asks_first_then_frees_the_booking(client, app):
    offers = make_offers()
    held = _hold(offers)
    _confirm_url, manage_url = _urls(held)
    question = client.get(f"{manage_url}/absagen")
    assert "Möchten Sie diesen Termin absagen?" in text(question)
    assert _fresh(held).status == BookingStatus.CONFIRMED

    cancelled = client.post(f"{manage_url}/absagen", data={"csrf_token": csrf_from(question.get_data(as_text=True))})
    assert cancelled.headers["Location"] == manage_url
    assert _fresh(held).status == BookingStatus.CANCELLED
    page = client.get(manage_url)
    assert "Ihr Termin ist abgesagt" in text(page) and "Abgesagt" in text(page)
    assert f"{manage_url}/verschieben" not in page.get_data(as_text=True)
    assert client.get(f"{manage_url}/verschieben").headers["Location"] == manage_url
    calendar = Calendar.from_ical(client.get(f"{manage_url}/termin.ics").data)
    assert calendar["METHOD"] == "CANCEL"


def test_an_appointment_that_has_started_can_no_longer_be_moved_or_cancelled_online(client, app):
    from datetime import timedelta

    from portal.timeutil import utcnow

    offers = make_offers()
    held = _hold(offers)
    _confirm_url, manage_url = _urls(held)
    booking = _fresh(held)
    booking.starts_at = utcnow() - timedelta(minutes=5)
    booking.ends_at = utcnow() + timedelta(minutes=10)
    db.session.commit()

    page = client.get(manage_url)
    assert "kann nicht mehr verschoben oder abgesagt werden" in text(page)
    assert f"{manage_url}/absagen" not in page.get_data(as_text=True)
    assert client.get(f"{manage_url}/verschieben").headers["Location"] == manage_url
    assert client.get(f"{manage_url}/absagen").headers["Location"] == manage_url
    assert _fresh(held).status == BookingStatus.CONFIRMED
