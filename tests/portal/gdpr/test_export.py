"""Meine Daten: the readable page, the PDF and the JSON file, with the services' sections in them."""

from __future__ import annotations

import json

from tests.appointments.booking.builders import make_office
from tests.builders import make_user
from tests.portal.gdpr.builders import NAME, PHONE, booked, details, events, past_visit
from tests.portal.pdf.helpers import page_texts, reader


def test_export_page_shows_each_section_under_a_heading_with_my_bookings(client, auth):
    office = make_office()
    user = make_user("erika@example.org", display_name="Erika")
    held = booked(office, user)
    auth.login("erika@example.org")

    response = client.get("/konto/daten")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert page.count("<h1") == 1
    for heading in ("Ihr Konto", "Angemeldete Sitzungen", "Termine", "Protokoll: Vorgänge zu Ihrem Konto"):
        assert f">{heading}</h2>" in page
    assert page.index(">Termine</h2>") < page.index(">Protokoll: Vorgänge zu Ihrem Konto</h2>")
    assert f"Termin {held.booking.reference}" in page
    assert office.location.name in page and office.service.name in page
    assert NAME in page and PHONE in page
    assert 'href="/konto/daten.pdf"' in page and 'href="/konto/daten.json"' in page
    [event] = events("account.data_exported")
    assert details(event)["format"] == "html"


def test_json_export_adds_the_services_and_keeps_the_core_keys(client, auth):
    office = make_office()
    user = make_user("erika@example.org")
    ahead = booked(office, user).booking
    before = past_visit(office, user)
    auth.login("erika@example.org")

    response = client.get("/konto/daten.json")

    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["format"] == "stadtportal-account-export/1"
    assert {"account", "roles", "department_memberships", "organisations", "sessions", "oidc_identities"} <= set(data)
    assert data["account"]["email"] == "erika@example.org"
    bookings = data["services"]["appointments"]["bookings"]
    assert [b["reference"] for b in bookings] == [before.reference, ahead.reference]  # by time
    first = bookings[0]
    assert (first["status"], first["name"], first["email"], first["phone"]) == ("served", NAME, user.email, PHONE)
    assert first["location"]["name"] == office.location.name
    assert first["services"] == [{"name": office.service.name, "quantity": 1}]
    text = response.get_data(as_text=True)
    assert "manage_token" not in text and "token_hash" not in text
    assert {e["action"] for e in data["audit_events"]} >= {"appointment.booked"}
    [event] = events("account.data_exported")
    assert details(event)["format"] == "json"


def test_pdf_export_reads_back_with_my_bookings_and_page_numbers(client, auth):
    office = make_office()
    user = make_user("erika@example.org", display_name="Erika")
    held = booked(office, user)
    auth.login("erika@example.org")

    response = client.get("/konto/daten.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data.startswith(b"%PDF-")
    pages = page_texts(data)
    text = "\n".join(pages)
    assert "Meine Daten im Stadtportal" in text
    assert "Stadt Musterstadt" in pages[0]
    assert f"Seite 1 von {len(pages)}" in pages[0]
    assert "erika@example.org" in text
    assert f"Termin {held.booking.reference}" in text and office.location.name in text
    assert reader(data).metadata.title == "Meine Daten im Stadtportal"
    [event] = events("account.data_exported")
    assert details(event)["format"] == "pdf"


def test_pdf_export_is_in_the_language_of_the_account(client, auth):
    make_user("erika@example.org", language="en")
    auth.login("erika@example.org")

    data = client.get("/konto/daten.pdf").get_data()

    assert reader(data).trailer["/Root"]["/Lang"] == "en"
    assert "Page 1 of" in page_texts(data)[0]


def test_export_holds_nobody_elses_bookings(client, auth):
    office = make_office(counters=2)
    erika = make_user("erika@example.org")
    bob = make_user("bob@example.org", display_name="Bob")
    booked(office, erika)
    bobs = booked(office, bob, hour=11, name="Bob Beispiel").booking
    auth.login("erika@example.org")

    for url in ("/konto/daten", "/konto/daten.json"):
        text = client.get(url).get_data(as_text=True)
        assert bobs.reference not in text and "Bob Beispiel" not in text and "bob@example.org" not in text


def test_export_needs_a_signed_in_person(client):
    for url in ("/konto/daten", "/konto/daten.json", "/konto/daten.pdf"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/anmelden" in response.headers["Location"]
    assert events("account.data_exported") == []
