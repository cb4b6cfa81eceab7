"""Every step refuses bad answers with the message next to the field and keeps what was typed."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest

from appointments.models import Booking
from appointments.services.captcha import solve
from portal.extensions import db
from tests.appointments.web.builders import Wizard, berlin, make_offers, open_tuesday, text
from tests.builders import csrf_from


def _challenge_from(html: str) -> dict:
    match = re.search(r"data-altcha='([^']+)'", html)
    assert match, "no captcha challenge on the page"
    return json.loads(html_lib.unescape(match.group(1)))


def test_no_service_chosen_is_refused_next_to_the_services(client, app):
    make_offers()
    page = Wizard(client).post("/termine/buchen", {})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'href="#services"' in html  # the error summary links to the fieldset
    assert 'id="services-error"' in html
    assert "Bitte wählen Sie mindestens eine Leistung aus." in text(page)


def test_a_quantity_above_the_maximum_is_refused_and_the_typed_values_are_kept(client, app):
    offers = make_offers()
    page = Wizard(client).services((offers.id_card, 1), (offers.passport, 4))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert f'id="quantity_{offers.passport.id}-error"' in html
    assert "Bitte geben Sie eine Anzahl von 1 bis 3 an." in text(page)
    assert f'name="quantity_{offers.passport.id}" type="number" value="4"' in html
    assert re.search(rf'<input[^>]*\bchecked\b[^>]*id="service_{offers.passport.id}"', html)


def test_a_quantity_typed_without_ticking_the_service_chooses_it(client, app):
    offers = make_offers()
    wizard = Wizard(client)
    sent = wizard.post("/termine/buchen", {f"quantity_{offers.passport.id}": "2", f"quantity_{offers.id_card.id}": ""})
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/termine/buchen/standort"
    again = client.get("/termine/buchen").get_data(as_text=True)
    assert re.search(rf'<input[^>]*\bchecked\b[^>]*id="service_{offers.passport.id}"', again)
    assert f'name="quantity_{offers.passport.id}" type="number" value="2"' in again
    assert not re.search(rf'<input[^>]*\bchecked\b[^>]*id="service_{offers.id_card.id}"', again)


def test_a_wrong_quantity_without_a_tick_is_refused_not_chosen(client, app):
    offers = make_offers()
    page = Wizard(client).post("/termine/buchen", {f"quantity_{offers.passport.id}": "9"})
    assert page.status_code == 422
    assert "Bitte geben Sie eine Anzahl von 1 bis 3 an." in text(page)


def test_missing_name_and_malformed_email_are_shown_next_to_the_fields(client, app):
    offers = make_offers()
    wizard = Wizard(client)
    day = open_tuesday()
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    wizard.time(berlin(day, 9))
    page = wizard.details(name="", email="erika-at-example", phone="0351 12")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="name-error"' in html and 'id="email-error"' in html
    assert "Bitte geben Sie Ihren Namen ein." in text(page)
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein" in text(page)
    assert 'value="erika-at-example"' in html
    assert 'value="0351 12"' in html
    assert 'aria-invalid="true"' in html


def test_sending_the_time_step_without_a_time_is_refused(client, app):
    offers = make_offers()
    wizard = Wizard(client)
    day = open_tuesday()
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    page = wizard.post(f"/termine/buchen/termin?ab={day}&tag={day}", {})
    assert page.status_code == 422
    assert "Bitte wählen Sie eine Uhrzeit aus." in text(page)
    assert 'id="start-error"' in page.get_data(as_text=True)


def test_a_time_outside_the_opening_hours_is_refused_with_the_engines_reason(client, app):
    offers = make_offers()
    wizard = Wizard(client)
    day = open_tuesday()
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    page = wizard.time(berlin(day, 12, 30))  # the lunch break
    assert page.status_code == 422
    assert "Öffnungszeiten" in text(page) or "angebotenen Uhrzeiten" in text(page)


def test_too_many_open_bookings_for_one_email_show_at_the_email_field_with_values_kept(client, app):
    offers = make_offers(max_open_per_email=1)
    day = open_tuesday()
    wizard = Wizard(client)
    wizard.all_steps(offers, berlin(day, 9))
    assert db.session.execute(db.select(db.func.count(Booking.id))).scalar_one() == 1

    second = wizard.all_steps(offers, berlin(day, 11))
    assert second.headers["Location"] == "/termine/buchen/angaben?zurueck=pruefen"
    page = client.get(second.headers["Location"])
    assert "Für diese E-Mail-Adresse sind hier schon 1 Termine offen" in text(page)
    assert 'id="email-error"' in page.get_data(as_text=True)
    assert 'value="erika@example.org"' in page.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(Booking.id))).scalar_one() == 1  # nothing held

    # Another address goes straight back to the check page and books.
    assert (
        wizard.post(
            "/termine/buchen/angaben?zurueck=pruefen", {"name": "Erika", "email": "erika2@example.org"}
        ).headers["Location"]
        == "/termine/buchen/pruefen"
    )
    assert wizard.book().headers["Location"] == "/termine/buchen/gebucht"


def test_a_step_reached_too_early_sends_the_citizen_to_the_first_unanswered_one(client, app):
    offers = make_offers()
    assert client.get("/termine/buchen/pruefen").headers["Location"] == "/termine/buchen"
    Wizard(client).services((offers.id_card, 1))
    assert client.get("/termine/buchen/angaben").headers["Location"] == "/termine/buchen/standort"


def test_a_captcha_location_asks_for_the_proof_of_work_and_explains_the_no_script_way(client, app):
    offers = make_offers(captcha_required=True)
    day = open_tuesday()
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.mitte)
    wizard.time(berlin(day, 9))
    wizard.details()
    check = client.get("/termine/buchen/pruefen")
    html = check.get_data(as_text=True)
    assert "<noscript>" in html and "Behördennummer 115" in html
    assert '<script src="/termine/captcha.js"' in html

    refused = wizard.book()
    assert refused.status_code == 422
    assert "kein Roboter" in text(refused)
    assert db.session.execute(db.select(db.func.count(Booking.id))).scalar_one() == 0

    page = client.get("/termine/buchen/pruefen")
    payload = solve(_challenge_from(page.get_data(as_text=True)))
    booked = client.post(
        "/termine/buchen/pruefen", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "altcha": payload}
    )
    assert booked.headers["Location"] == "/termine/buchen/gebucht"


def test_the_captcha_script_is_served_from_our_origin(client, app):
    script = client.get("/termine/captcha.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert "crypto.subtle.digest" in script.get_data(as_text=True)


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_a_time_beyond_the_calendar_is_refused_not_an_error(start):
    """Found by the fuzz stage: such a time parsed, then overflowed in the slot arithmetic (500)."""
    from appointments.views import parse_iso

    assert parse_iso(start) is None
    assert parse_iso("2026-12-01T09:00:00+01:00") is not None
