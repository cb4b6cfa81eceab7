"""Issue 13 on the booking pages: what to bring and the fee in the service choice and after booking, English
catalogue names in the English UI (German where none is kept), and no mail confirmation for a verified account."""

from __future__ import annotations

from appointments.models import Booking
from portal.extensions import db
from tests.appointments.web.builders import Wizard, berlin, make_offers, open_tuesday, text
from tests.builders import AuthActions, make_user


def _facts(offers) -> None:
    offers.id_card.fee_kind, offers.id_card.fee_cents = "fixed", 3700
    offers.id_card.bring = "biometrisches Foto\nalter Ausweis"
    offers.id_card.name_en = "Apply for an identity card"
    offers.id_card.bring_en = "biometric photo\nold identity card"
    offers.passport.fee_kind = "varies"
    db.session.commit()


def test_the_service_choice_says_the_fee_and_what_to_bring(client, app):
    offers = make_offers()
    _facts(offers)
    page = text(client.get("/termine/buchen"))
    id_card = page.split("Personalausweis beantragen", 1)[1]
    assert id_card.startswith(" Gebühr: 37,00 € Bitte mitbringen: biometrisches Foto, alter Ausweis")
    assert "Reisepass beantragen Gebühr: je nach Fall verschieden" in page


def test_the_english_ui_shows_english_names_and_falls_back_to_german(client, app):
    offers = make_offers()
    _facts(offers)
    client.get("/sprache/en")
    page = text(client.get("/termine/buchen"))
    assert "Apply for an identity card" in page and "biometric photo, old identity card" in page
    assert "Personalausweis beantragen" not in page
    assert "Reisepass beantragen" in page  # no English name kept: the German one


def test_the_done_page_lists_what_to_bring_and_the_fee(client, app):
    offers = make_offers()
    _facts(offers)
    wizard = Wizard(client)
    wizard.services((offers.id_card, 1))
    wizard.location(offers.nord)
    wizard.time(berlin(open_tuesday(), 9))
    wizard.details()
    wizard.book()
    page = text(client.get("/termine/buchen/gebucht"))
    facts = page.split("Was Sie mitbringen und was es kostet", 1)[1]
    assert "Personalausweis beantragen Gebühr: 37,00 € Bitte mitbringen: biometrisches Foto alter Ausweis" in facts


def test_a_verified_account_books_without_mail_confirmation_and_a_guest_confirms(app):
    offers = make_offers(confirm_within_minutes=30)
    make_user("anna@example.org")
    signed_in = AuthActions(app.test_client())
    signed_in.login("anna@example.org")
    guest = app.test_client()
    for client, hour in ((signed_in.client, 9), (guest, 10)):
        wizard = Wizard(client)
        wizard.services((offers.id_card, 1))
        wizard.location(offers.mitte)
        wizard.time(berlin(open_tuesday(), hour))
        wizard.details(name="Anna Beispiel", email="anna@example.org")
        wizard.book()
    assert "Ihr Termin ist gebucht" in text(signed_in.client.get("/termine/buchen/gebucht"))
    assert "Ihr Termin ist vorgemerkt" in text(guest.get("/termine/buchen/gebucht"))
    statuses = db.session.scalars(db.select(Booking.status).order_by(Booking.starts_at)).all()
    assert statuses == ["confirmed", "reserved"]


def test_the_catalogue_api_gives_the_fee_and_what_to_bring_in_the_clients_language(client, app):
    offers = make_offers()
    _facts(offers)
    offers.mitte.notes = "Eingang über den Hof, barrierefrei"
    db.session.commit()

    german = {s["id"]: s for s in client.get("/api/v1/appointments/services").get_json()}
    english = client.get("/api/v1/appointments/services", headers={"Accept-Language": "en"}).get_json()
    locations = client.get(f"/api/v1/appointments/locations?service={offers.id_card.id}").get_json()

    id_card = german[offers.id_card.id]
    assert id_card["fee"] == {"kind": "fixed", "cents": 3700, "text": "37,00\xa0€"}
    assert id_card["bring"] == ["biometrisches Foto", "alter Ausweis"]
    assert german[offers.passport.id]["fee"] == {"kind": "varies", "cents": None, "text": "je nach Fall verschieden"}
    [english_id_card] = [s for s in english if s["id"] == offers.id_card.id]
    assert english_id_card["name"] == "Apply for an identity card"
    assert english_id_card["bring"] == ["biometric photo", "old identity card"]
    assert {loc["name"]: loc["notes"] for loc in locations} == {
        "Bürgerbüro Mitte": "Eingang über den Hof, barrierefrei",
        "Bürgerbüro Nord": "",
    }


def test_the_location_step_shows_the_locations_note_under_its_hours(client, app):
    offers = make_offers()
    offers.mitte.notes = "Eingang über den Hof, barrierefrei"
    db.session.commit()
    Wizard(client).services((offers.id_card, 1))
    page = text(client.get("/termine/buchen/standort"))
    assert "Bürgerbüro Mitte" in page
    assert "Eingang über den Hof, barrierefrei" in page
