"""The seat taken in between, signed-in citizens, and the check page's change links."""

from __future__ import annotations

import re

from appointments.models import Booking
from appointments.services.booking import hold_booking
from portal.actors import ANONYMOUS
from portal.extensions import db
from tests.appointments.web.builders import Wizard, berlin, make_offers, open_tuesday, start_value, text
from tests.builders import csrf_from, make_user


def test_a_seat_taken_in_between_offers_the_nearest_free_times_and_keeps_the_answers(client, app):
    offers = make_offers()
    day = open_tuesday()
    wizard = Wizard(client)
    start = berlin(day, 10)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    wizard.time(start)
    wizard.details(name="Erika Mustermann", email="erika@example.org")
    # Someone else books the last seat while Erika reads the check page.
    hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=start,
        name="Max Schnell",
        email="max@example.org",
    )

    taken = wizard.book()
    assert taken.status_code == 409
    page = text(taken)
    assert "Dieser Termin wurde gerade vergeben" in page
    assert "Ihre Angaben sind gespeichert" in page
    html = taken.get_data(as_text=True)
    offered = re.findall(r'type="radio" value="([^"]+)"', html)
    assert offered and start_value(start) not in offered
    # The nearest times may lie on other days: each says its day, none counts seats.
    assert re.search(r"\w{2}\., \d+\. \w+ \d{4}, \d{2}:\d{2} Uhr", page)
    assert "Platz frei" not in page

    booked = client.post("/termine/buchen/andere-zeit", data={"csrf_token": csrf_from(html), "start": offered[0]})
    assert booked.headers["Location"] == "/termine/buchen/gebucht"
    mine = db.session.execute(db.select(Booking).where(Booking.email == "erika@example.org")).scalar_one()
    assert mine.name == "Erika Mustermann"
    assert start_value(mine.starts_at) == offered[0]


def test_picking_no_nearest_time_asks_again(client, app):
    offers = make_offers()
    day = open_tuesday()
    wizard = Wizard(client)
    start = berlin(day, 10)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    wizard.time(start)
    wizard.details()
    hold_booking(
        ANONYMOUS,
        location_id=offers.mitte.id,
        items=[(offers.id_card.id, 1)],
        start=start,
        name="M",
        email="m@example.org",
    )
    taken = wizard.book()
    again = client.post("/termine/buchen/andere-zeit", data={"csrf_token": csrf_from(taken.get_data(as_text=True))})
    assert again.status_code == 409
    assert "Bitte wählen Sie eine der freien Zeiten aus." in text(again)


def test_a_signed_in_citizen_finds_name_and_email_prefilled_and_the_booking_under_meine_termine(client, app, auth):
    offers = make_offers()
    user = make_user("anna@example.org", display_name="Anna Beispiel")
    auth.login()
    day = open_tuesday()
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.nord)
    wizard.time(berlin(day, 9))
    details = client.get("/termine/buchen/angaben")
    html = details.get_data(as_text=True)
    assert 'value="Anna Beispiel"' in html
    assert 'value="anna@example.org"' in html
    client.post(
        "/termine/buchen/angaben",
        data={"csrf_token": csrf_from(html), "name": "Anna Beispiel", "email": "anna@example.org"},
    )
    assert wizard.book().headers["Location"] == "/termine/buchen/gebucht"
    booking = db.session.execute(db.select(Booking)).scalar_one()
    assert booking.user_id == user.id

    mine = client.get("/termine/meine")
    assert mine.status_code == 200
    assert booking.reference in text(mine)
    assert "Bürgerbüro Nord" in text(mine)
    assert "Personalausweis beantragen" in text(mine)
    assert "/termine/meine" in client.get("/termine/").get_data(as_text=True)


def test_meine_termine_asks_to_sign_in(client, app):
    response = client.get("/termine/meine")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]


def test_a_change_link_on_the_check_page_leads_back_to_the_check_page(client, app):
    offers = make_offers()
    day = open_tuesday()
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    wizard.time(berlin(day, 9))
    wizard.details()
    check = client.get("/termine/buchen/pruefen").get_data(as_text=True)
    assert 'href="/termine/buchen/angaben?zurueck=pruefen"' in check
    changed = wizard.post("/termine/buchen/angaben?zurueck=pruefen", {"name": "Erika Neu", "email": "neu@example.org"})
    assert changed.headers["Location"] == "/termine/buchen/pruefen"
    assert "Erika Neu" in text(client.get("/termine/buchen/pruefen"))

    # Changing the time from the check page: the calendar keeps the way back.
    picker = client.get("/termine/buchen/termin?zurueck=pruefen").get_data(as_text=True)
    assert "zurueck=pruefen" in picker
    moved = wizard.post(
        f"/termine/buchen/termin?zurueck=pruefen&ab={day}&tag={day}", {"start": start_value(berlin(day, 11))}
    )
    assert moved.headers["Location"] == "/termine/buchen/pruefen"
    assert "11:00 Uhr" in text(client.get("/termine/buchen/pruefen"))


def test_other_services_forget_the_location_and_time_chosen_for_the_old_ones(client, app):
    offers = make_offers()
    day = open_tuesday()
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.nord)
    wizard.time(berlin(day, 9))
    wizard.details()
    assert (
        wizard.post(
            "/termine/buchen?zurueck=pruefen",
            {f"service_{offers.passport.id}": "y", f"quantity_{offers.passport.id}": "1"},
        ).headers["Location"]
        == "/termine/buchen/standort"
    )
    assert "Bürgerbüro Nord" not in text(client.get("/termine/buchen/standort"))


def test_a_location_that_stops_taking_appointments_meanwhile_sends_the_citizen_back_to_choose_another(client, app):
    from appointments.models import LocationSettings

    offers = make_offers()
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    db.session.get(LocationSettings, offers.mitte.id).active = False
    db.session.commit()

    calendar = client.get("/termine/buchen/termin")
    assert calendar.headers["Location"].startswith("/termine/buchen/standort")
    page = client.get(calendar.headers["Location"])
    assert "An diesem Standort können keine Termine gebucht werden." in text(page)
    assert "Bürgerbüro Nord" in text(page) and "Bürgerbüro Mitte" not in text(page)
