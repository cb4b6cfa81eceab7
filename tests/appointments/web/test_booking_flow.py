"""The booking pages step by step, as a citizen without JavaScript uses them."""

from __future__ import annotations

import re

from appointments.models import Booking, BookingStatus
from portal.extensions import db
from tests.appointments.web.builders import Wizard, berlin, make_offers, open_tuesday, start_value, text


def test_start_page_lists_what_can_be_booked_and_links_to_the_wizard(client, app):
    make_offers()
    page = client.get("/termine/")
    assert page.status_code == 200
    assert "Personalausweis beantragen" in text(page)
    assert 'href="/termine/buchen"' in page.get_data(as_text=True)


def test_a_citizen_books_step_by_step_and_sees_the_reference(client, app):
    offers = make_offers()
    wizard = Wizard(client)
    day = open_tuesday()

    step1 = client.get("/termine/buchen")
    assert "Schritt 1 von 5" in text(step1)
    assert wizard.services((offers.id_card, 1), (offers.passport, 2)).headers["Location"] == "/termine/buchen/standort"

    step2 = client.get("/termine/buchen/standort")
    # Only Mitte offers both services; the visit there takes 15 + 2 × 20 minutes.
    assert "Bürgerbüro Mitte, Rathausplatz 1, 01067 Musterstadt – Dauer: 55 Minuten" in text(step2)
    assert "Bürgerbüro Nord" not in text(step2)
    assert wizard.location(offers.mitte).headers["Location"] == "/termine/buchen/termin"

    calendar = client.get(f"/termine/buchen/termin?ab={day.isoformat()}")
    assert calendar.status_code == 200
    assert f"tag={day.isoformat()}" in calendar.get_data(as_text=True)
    assert "geschlossen" in text(calendar) or "ausgebucht" in text(calendar)  # the weekend
    times = client.get(f"/termine/buchen/termin?ab={day.isoformat()}&tag={day.isoformat()}")
    start = berlin(day, 9, 0)
    assert start_value(start) in times.get_data(as_text=True)
    # The day is said once, in the heading; the times are grouped by part of the day; seats are not counted.
    heading = r"Freie Uhrzeiten am Dienstag, \d+\. \w+ \d{4} Uhrzeit .* "
    assert re.search(heading + r"Vormittag \(\d+ Uhrzeiten\) 08:00 Uhr", text(times))
    assert re.search(r"Nachmittag \(\d+ Uhrzeiten\) 13:00 Uhr", text(times))
    assert "Platz frei" not in text(times) and "Plätze frei" not in text(times)
    assert not re.search(r"\d{4}, 09:00 Uhr", text(times))  # no date repeated in the time's label
    assert wizard.time(start).headers["Location"] == "/termine/buchen/angaben"

    assert wizard.details(phone="0351 123456").headers["Location"] == "/termine/buchen/pruefen"
    check = client.get("/termine/buchen/pruefen")
    for expected in (
        "Personalausweis beantragen, Reisepass beantragen (2×)",
        "Bürgerbüro Mitte",
        "09:00 Uhr",
        "Erika Mustermann",
        "erika@example.org",
        "0351 123456",
        "55 Minuten",
    ):
        assert expected in text(check)
    assert text(check).count("Ändern") == 6

    booked = wizard.book()
    assert booked.headers["Location"] == "/termine/buchen/gebucht"
    done = client.get("/termine/buchen/gebucht")
    booking = db.session.execute(db.select(Booking)).scalar_one()
    assert booking.reference in text(done)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.starts_at == start
    assert "Wie es weitergeht" in text(done)
    ics = client.get("/termine/buchen/gebucht/termin.ics")
    assert ics.mimetype == "text/calendar"
    assert b"BEGIN:VEVENT" in ics.data
