"""What citizens tripped over in the booking journey (issue 13), kept fixed in a real browser: desktop and a
390 px phone, axe-core finding nothing on each page looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.appointments.web.builders import make_offers, open_tuesday
from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form
from tests.e2e.test_appointments_booking import Scanner, _long_day, _open_day

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _to_calendar(page: Page, live: LiveServer) -> None:
    goto(page, live("/termine/buchen"))
    page.get_by_role("checkbox", name="Personalausweis beantragen").check()
    submit_main_form(page)
    page.get_by_label("Bürgerbüro Mitte", exact=False).check()
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text("Wann möchten Sie kommen?")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_calendar_fits_a_phone_and_the_times_come_by_part_of_the_day(page: Page, live_server: LiveServer, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    with live_server.app.app_context():
        make_offers()
    _to_calendar(page, live_server)
    day = open_tuesday()
    _open_day(page, day)

    table = page.locator("table.booking-calendar")
    # Saturday, Sunday and the caption are on the screen, not behind a side-scroll.
    assert table.evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    width = page.viewport_size["width"]
    for name in ("Samstag", "Sonntag"):
        box = page.locator(f"table.booking-calendar abbr[title={name}]").bounding_box()
        assert box and box["x"] + box["width"] <= width, (name, box)
    caption = page.locator("table.booking-calendar caption").bounding_box()
    assert caption and caption["x"] + caption["width"] <= width

    # The day is said once; the times come under Vormittag / Nachmittag, without seats to count.
    expect(page.get_by_role("heading", name=f"Freie Uhrzeiten am {_long_day(day)}")).to_be_visible()
    morning = page.get_by_role("group", name="Vormittag")
    expect(morning).to_contain_text("09:00 Uhr")
    expect(page.get_by_role("group", name="Nachmittag")).to_contain_text("13:00 Uhr")
    expect(page.locator("main")).not_to_contain_text("frei —")
    expect(page.locator("main")).not_to_contain_text("Plätze frei")
    assert "2026," not in page.get_by_label("09:00 Uhr").evaluate("e => e.labels[0].textContent")
    assert_accessible(page, f"calendar and times ({viewport or 'desktop'})")
    page.screenshot(path=f"/tmp/e2e-calendar-{'phone' if viewport else 'desktop'}.png", full_page=True)

    morning.get_by_label("09:00 Uhr").check()
    submit_main_form(page)
    page.fill("#name", "Erika Mustermann")
    page.fill("#email", "erika@example.org")
    submit_main_form(page)
    submit_main_form(page)
    page.wait_for_url("**/termine/buchen/gebucht")
    heading = page.locator("h1").inner_text()
    assert page.title().startswith(heading), (page.title(), heading)
    reference = page.locator("main strong").filter(has_text="T-").first
    # One line: the reference does not break at its hyphen.
    line = float(reference.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert reference.bounding_box()["height"] < 1.5 * line
    assert_accessible(page, f"done page ({viewport or 'desktop'})")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_location_settings_read_in_order_on_desktop_and_phone(page: Page, live_server: LiveServer, viewport):
    from tests.appointments.builders import make_bookable_location
    from tests.builders import PASSWORD, make_department, make_user

    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department)
        admin = make_user("admin@stadt.example", department=department, department_role="department_admin", totp=True)
        location_id, secret = location.id, admin.totp_secret
    sign_in(page, live_server, "admin@stadt.example", PASSWORD, secret)
    if viewport:
        page.set_viewport_size(viewport)
    goto(page, live_server(f"/admin/termine/standorte/{location_id}/"))

    # Each group's legend is a line of its own, above its first label (they ran into each other).
    for legend, first_label in (
        ("Kapazität und Zeitraster", "Schalter (parallele Termine)"),
        ("Buchungszeitraum", "Buchbar im Voraus (Tage)"),
        ("Schutz vor Missbrauch", "Offene Termine je E-Mail-Adresse höchstens"),
    ):
        legend_box = page.locator("legend", has_text=legend).bounding_box()
        label_box = page.locator("label", has_text=first_label).first.bounding_box()
        assert legend_box and label_box
        assert legend_box["y"] + legend_box["height"] <= label_box["y"] + 1, (legend, legend_box, label_box)
    # A select always has a value: not "optional".
    expect(page.locator("label[for=slot_minutes]")).to_have_text("Zeitraster")
    # The ALTCHA checkbox's hint reads under its label, not one word per line.
    hint = page.locator("#captcha_required-hint")
    label = page.locator("label[for=captcha_required]")
    assert hint.bounding_box()["x"] >= label.bounding_box()["x"] - 2
    assert hint.bounding_box()["width"] > 200
    assert_accessible(page, f"location settings ({viewport or 'desktop'})")


def test_typing_a_quantity_chooses_the_service_without_javascript_on_a_phone(
    page_without_js: Page, page: Page, live_server: LiveServer
):
    scan = Scanner(page, live_server)
    page = page_without_js
    page.set_viewport_size(PHONE)
    with live_server.app.app_context():
        offers = make_offers()
        passport_id = offers.passport.id
    goto(page, live_server("/termine/buchen"))
    expect(page.locator("#services-hint")).to_contain_text("eine Anzahl wählt die Leistung mit aus")
    scan(page, "step 1 on a phone")
    page.fill(f"#quantity_{passport_id}", "2")  # the box stays unticked
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text("Wo möchten Sie hingehen?")
    page.get_by_role("link", name="Zurück").click()
    expect(page.get_by_role("checkbox", name="Reisepass beantragen")).to_be_checked()
    expect(page.locator(f"#quantity_{passport_id}")).to_have_value("2")
    page.screenshot(path="/tmp/e2e-services-phone.png", full_page=True)


def test_without_javascript_a_captcha_location_is_named_before_the_first_step(
    page_without_js: Page, page: Page, live_server: LiveServer
):
    with live_server.app.app_context():
        make_offers(captcha_required=True)  # Mitte asks for the proof of work, Nord does not
    goto(page, live_server("/termine/buchen"))
    expect(page.get_by_text("Ohne JavaScript nicht an jedem Standort buchbar")).to_have_count(0)  # JS on: silent

    scan = Scanner(page, live_server)
    page = page_without_js
    page.set_viewport_size(PHONE)
    goto(page, live_server("/termine/buchen"))
    notice = page.locator("main .kern-alert--warning")
    expect(notice).to_contain_text("Ohne JavaScript nicht an jedem Standort buchbar")
    expect(notice).to_contain_text("115")
    scan(page, "step 1 without JavaScript")
    page.get_by_role("checkbox", name="Personalausweis beantragen").check()
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text("Wo möchten Sie hingehen?")
    notice = page.locator("main .kern-alert--warning")
    expect(notice).to_contain_text("Bürgerbüro Mitte")
    expect(notice).not_to_contain_text("Bürgerbüro Nord")
    scan(page, "step 2 without JavaScript")
    page.screenshot(path="/tmp/e2e-nojs-location-phone.png", full_page=True)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_deleting_the_account_asks_for_the_password_warns_and_says_what_happens_to_appointments(
    page: Page, live_server: LiveServer, viewport
):
    from tests.builders import PASSWORD, make_user

    with live_server.app.app_context():
        make_user("erika@example.org")
    if viewport:
        page.set_viewport_size(viewport)
    sign_in(page, live_server, "erika@example.org", PASSWORD)
    goto(page, live_server("/konto/loeschen"))
    expect(page.locator("label[for=password]")).not_to_contain_text("optional")
    expect(page.locator("main")).to_contain_text("ohne Anmeldung gebucht haben, bleiben bestehen")
    button = page.get_by_role("button", name="Konto endgültig löschen")
    background = button.evaluate("b => getComputedStyle(b).backgroundColor")
    danger = page.evaluate(
        "() => { const d = document.createElement('div'); d.className = 'kern-body';"
        " d.style.color = 'var(--kern-color-feedback-danger-contextual)'; document.querySelector('main').append(d);"
        " const v = getComputedStyle(d).color; d.remove(); return v; }"
    )
    assert background == danger, (background, danger)  # the warning colour, not the primary action's
    assert_accessible(page, f"delete account ({viewport or 'desktop'})")

    page.check("#confirm")
    button.click()  # no password typed
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Bitte geben Sie Ihr Passwort ein")
    expect(summary).to_be_focused()
    assert summary.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
    expect(page.locator("main")).not_to_contain_text("Das Passwort ist nicht richtig")
    assert_accessible(page, f"delete account with an error ({viewport or 'desktop'})")
    page.screenshot(path=f"/tmp/e2e-delete-{'phone' if viewport else 'desktop'}.png", full_page=True)


def test_a_signed_in_citizen_reschedules_and_cancels_from_meine_termine_on_a_phone(
    page: Page, live_server: LiveServer, smtp_server
):
    from appointments.services.booking import hold_booking
    from portal.actors import ANONYMOUS
    from tests.appointments.web.builders import berlin
    from tests.builders import PASSWORD, make_user

    with live_server.app.test_request_context():
        offers = make_offers()
        user = make_user("anna@example.org", display_name="Anna Beispiel")
        reference = hold_booking(
            ANONYMOUS,
            location_id=offers.nord.id,
            items=[(offers.id_card.id, 1)],
            start=berlin(open_tuesday(), 9),
            name="Anna Beispiel",
            email="anna@example.org",
            user_id=user.id,
        ).booking.reference
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "anna@example.org", PASSWORD)
    goto(page, live_server("/termine/meine"))
    assert_accessible(page, "Meine Termine with actions (phone)")
    page.screenshot(path="/tmp/e2e-mine-phone.png", full_page=True)
    # Nothing behind a side-scroll: the page is as wide as the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name=f"Verschieben – {reference}").click()
    expect(page.locator("h1")).to_have_text("Termin verschieben")
    _open_day(page, open_tuesday())
    page.get_by_label("11:00 Uhr").check()
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text("Prüfen Sie den neuen Termin")
    assert_accessible(page, "reschedule check (phone)")
    page.screenshot(path="/tmp/e2e-reschedule-check-phone.png", full_page=True)
    page.get_by_role("button", name="Termin verschieben").click()
    expect(page.get_by_text("Ihr Termin ist verschoben")).to_be_visible()
    expect(page.locator("h1")).to_contain_text(reference)
    assert_accessible(page, "own booking (phone)")

    page.get_by_role("link", name="Termin absagen").click()
    page.get_by_role("button", name="Ja, Termin absagen").click()
    expect(page.get_by_text("Ihr Termin ist abgesagt")).to_be_visible()
    page.get_by_role("link", name="Zurück zu Meine Termine").click()
    expect(page.locator("section").last).to_contain_text(reference)  # now under earlier and cancelled
    expect(page.get_by_role("link", name=f"Absagen – {reference}")).to_have_count(0)
