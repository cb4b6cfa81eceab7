"""Issue 13, what was left: what to bring and the fee in the service choice and on the done page, English
catalogue names in the English UI, and a verified account's booking confirmed at once; in Chromium at 1280 px
and 390 px, axe-core finding nothing on each page looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.appointments.web.builders import make_offers, open_tuesday
from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form
from tests.e2e.test_appointments_booking import to_check_page

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _offers_with_facts():
    offers = make_offers(confirm_within_minutes=30)
    offers.id_card.fee_kind, offers.id_card.fee_cents = "fixed", 3700
    offers.id_card.bring = "biometrisches Foto\nalter Ausweis"
    offers.id_card.name_en = "Apply for an identity card"
    offers.id_card.bring_en = "biometric photo\nold identity card"
    offers.passport.fee_kind = "varies"
    db.session.commit()
    return offers


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_signed_in_citizen_sees_fee_and_what_to_bring_and_is_booked_at_once(
    page: Page, live_server: LiveServer, viewport
):
    from tests.builders import PASSWORD, make_user

    page.set_viewport_size(viewport)
    name = "phone" if viewport is PHONE else "desktop"
    with live_server.app.app_context():
        _offers_with_facts()
        make_user("anna@example.org", display_name="Anna Beispiel")
    sign_in(page, live_server, "anna@example.org", PASSWORD)

    goto(page, live_server("/termine/buchen"))
    choice = page.locator(".service-choice").filter(has_text="Personalausweis beantragen")
    expect(choice).to_contain_text("Gebühr: 37,00 €")
    expect(choice).to_contain_text("Bitte mitbringen: biometrisches Foto, alter Ausweis")
    # The facts are the checkbox's description for screen readers.
    checkbox = page.get_by_role("checkbox", name="Personalausweis beantragen")
    expect(checkbox).to_have_accessible_description(
        "Gebühr: 37,00 € Bitte mitbringen: biometrisches Foto, alter Ausweis"
    )
    assert_accessible(page, f"service choice with facts ({name})")
    page.screenshot(path=f"/tmp/e2e-facts-services-{name}.png", full_page=True)

    checkbox.check()
    to_check_page(page, "Bürgerbüro Mitte", open_tuesday(), "09:00 Uhr", "Anna Beispiel", "anna@example.org")
    submit_main_form(page)
    page.wait_for_url("**/termine/buchen/gebucht")

    expect(page.locator("h1")).to_have_text("Ihr Termin ist gebucht")  # no mail confirmation for a verified account
    facts = page.locator("main")
    expect(facts.get_by_role("heading", name="Was Sie mitbringen und was es kostet")).to_be_visible()
    expect(facts).to_contain_text("Gebühr: 37,00 €")
    expect(facts.get_by_role("listitem").filter(has_text="alter Ausweis")).to_be_visible()
    assert_accessible(page, f"done page with facts ({name})")
    page.screenshot(path=f"/tmp/e2e-facts-done-{name}.png", full_page=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_english_ui_names_services_in_english_and_falls_back_to_german(
    page: Page, live_server: LiveServer, viewport
):
    page.set_viewport_size(viewport)
    with live_server.app.app_context():
        _offers_with_facts()
    goto(page, live_server("/sprache/en"))
    goto(page, live_server("/termine/buchen"))
    expect(page.get_by_role("checkbox", name="Apply for an identity card")).to_be_visible()
    expect(page.locator("main")).to_contain_text("biometric photo, old identity card")
    expect(page.get_by_role("checkbox", name="Reisepass beantragen")).to_be_visible()
    assert_accessible(page, "English service choice")
    page.screenshot(path=f"/tmp/e2e-facts-english-{'phone' if viewport is PHONE else 'desktop'}.png", full_page=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_catalogue_form_and_location_list_are_accessible(page: Page, live_server: LiveServer, viewport):
    from tests.builders import PASSWORD, make_user

    page.set_viewport_size(viewport)
    with live_server.app.app_context():
        offers = _offers_with_facts()
        department_id = offers.mitte.department_id
        entry_id = offers.id_card.id
        secret = make_user("admin@example.org", roles=("platform_admin",), totp=True).totp_secret
    sign_in(page, live_server, "admin@example.org", PASSWORD, secret)

    goto(page, live_server(f"/admin/leistungen/{entry_id}/bearbeiten"))
    expect(page.get_by_label("Betrag in Euro")).to_have_value("37,00")
    page.get_by_label("Betrag in Euro").fill("37,5x")
    submit_main_form(page)
    expect(page.locator("#fee_amount-error")).to_be_visible()
    assert_accessible(page, "catalogue form with a fee error")

    goto(page, live_server(f"/admin/aemter/{department_id}/standorte"))
    expect(page.locator("main")).to_contain_text("Montag: 08:00–12:00, 13:00–16:00 Uhr")
    assert_accessible(page, "location list with structured hours")
    page.screenshot(path=f"/tmp/e2e-facts-locations-{'phone' if viewport is PHONE else 'desktop'}.png", full_page=True)
