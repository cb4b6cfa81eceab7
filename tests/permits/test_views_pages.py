"""The permit pages anyone can see (start page, fee calculator) and what signing in changes."""

from __future__ import annotations

from datetime import timedelta

from portal import access
from tests.builders import PASSWORD
from tests.permits.web import future


def test_the_start_page_lists_use_types_with_lead_time_and_documents_and_asks_to_sign_in(client, world):
    html = client.get("/sondernutzung/").get_data(as_text=True)
    assert "Container oder Mulde" in html and "5 Arbeitstage vor Beginn" in html
    assert "Lageplan, Nachweis der Haftpflichtversicherung" in html  # scaffolding's documents
    assert "/sondernutzung/gebuehren" in html
    assert "Anmelden und Antrag beginnen" in html and "Antrag beginnen</span></button>" not in html


def test_signed_in_the_start_page_offers_to_begin(client, auth, world):
    auth.login("antrag@example.org", PASSWORD)
    html = client.get("/sondernutzung/").get_data(as_text=True)
    assert 'action="/sondernutzung/antrag"' in html and 'name="csrf_token"' in html
    assert "für sich selbst" in html


def test_the_fee_calculator_reproduces_the_statute_example_without_signing_in(client, world):
    first = future()
    response = client.get(
        "/sondernutzung/gebuehren",
        query_string={
            "use_type": "container",
            "street": "Markt",
            "area_m2": "6",
            "start": first.isoformat(),
            "end": (first + timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Voraussichtliche Gebühr: 39,40 €" in html
    assert "Sondernutzungsgebühr" in html and "Verwaltungsgebühr" in html and "25,00 €" in html
    assert "(Zone 1)" in html


def test_the_fee_calculator_keeps_the_input_and_names_the_wrong_field(client, world):
    response = client.get(
        "/sondernutzung/gebuehren",
        query_string={
            "use_type": "container",
            "street": "Nirgendwo",
            "area_m2": "-2",
            "start": "2026-06-03",
            "end": "2026-06-01",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="street-error"' in html and 'value="Nirgendwo"' in html
    assert 'id="area_m2-error"' in html and 'id="end-error"' in html
    assert 'href="#street"' in html  # the error summary links to the field


def test_the_empty_calculator_shows_no_errors(client, world):
    response = client.get("/sondernutzung/gebuehren")
    assert response.status_code == 200
    assert "error-summary" not in response.get_data(as_text=True)


def test_my_applications_need_signing_in_and_are_linked_from_my_account(client, auth, world):
    response = client.get("/sondernutzung/antraege")
    assert response.status_code == 302 and "/anmelden" in response.headers["Location"]
    auth.login("antrag@example.org", PASSWORD)
    assert "/sondernutzung/antraege" in client.get("/konto/").get_data(as_text=True)
    html = client.get("/sondernutzung/antraege").get_data(as_text=True)
    assert "Sie haben keine Entwürfe." in html


def test_every_page_but_the_start_page_and_calculator_needs_signing_in(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("permits."):
            continue
        kind = access.rule_for(app, rule.endpoint).kind
        expected = "public" if rule.endpoint in ("permits.index", "permits.fee_preview") else "signed_in"
        assert kind == expected, rule.endpoint


def test_the_service_is_offered_on_the_home_page_and_in_the_navigation(app):
    [landing] = [item for item in app.extensions["stadtportal_landing"] if item.name == "permits"]
    assert landing.endpoint == "permits.index" and landing.available
