"""The clerk's desk in a real browser: sign in with TOTP, check a visitor in by reference, call, mark served;
axe-core finds nothing on the desk pages and the waiting-room display."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in

pytestmark = pytest.mark.e2e


def test_the_clerk_checks_a_visitor_in_calls_and_marks_served(page: Page, live_server: LiveServer):
    from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
    from tests.appointments.desk.builders import make_booking, today_at
    from tests.builders import PASSWORD, make_department, make_user

    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department, counters=2)
        service = make_catalogue_service(department)
        offer(location, service, minutes=15)
        booking = make_booking(location, service, starts_at=today_at(9), name="Berta Bürgerin")
        clerk = make_user("clerk@stadt.example", department=department, department_role="clerk", totp=True)
        location_id, location_name, reference, secret = location.id, location.name, booking.reference, clerk.totp_secret
    assert reference and secret

    sign_in(page, live_server, "clerk@stadt.example", PASSWORD, secret)
    goto(page, live_server("/schalter/"))
    expect(page.locator("h1")).to_have_text("Schalter: Standort wählen")
    assert_accessible(page, "desk: choose a location")

    page.get_by_role("link", name=location_name).click()
    expect(page.locator("h1")).to_contain_text("Termine am")
    expect(page.get_by_role("table")).to_contain_text("Berta Bürgerin")
    assert_accessible(page, "desk: day list")

    # What a QR scanner would type into the focused field: the reference.
    page.fill("#reference", reference)
    page.get_by_role("button", name="Einchecken", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Wartenummer 1")
    assert_accessible(page, "desk: day list after check-in")

    page.select_option("#counter", label="Schalter 2")
    page.get_by_role("button", name="Nächste aufrufen").click()
    expect(page.get_by_role("status").first).to_contain_text("Wartenummer 1 wurde an Schalter 2 aufgerufen")

    display = page.context.new_page()
    goto(display, live_server(f"/schalter/{location_id}/anzeige"))
    expect(display.locator("h1")).to_contain_text("Aufruf")
    expect(display.get_by_role("table")).to_contain_text("Schalter 2")
    expect(display.locator("body")).not_to_contain_text("Berta")
    assert_accessible(display, "waiting-room display")
    # It reloads itself without JavaScript: the Refresh header, every 10 seconds.
    with display.expect_event("load", timeout=15_000):
        pass
    display.close()

    page.get_by_role("button", name=f"Erledigt – {reference}").click()
    expect(page.get_by_role("status").first).to_contain_text(f"{reference} ist erledigt")
    expect(page.get_by_role("table")).to_contain_text("Erledigt")

    goto(page, live_server(f"/schalter/{location_id}/ohne-termin"))
    expect(page.locator("h1")).to_have_text("Besuch ohne Termin")
    assert_accessible(page, "desk: walk-in form")
    page.get_by_label("Personalausweis beantragen").check()
    page.get_by_role("button", name="Wartenummer vergeben").click()
    expect(page.get_by_role("status").first).to_contain_text("Wartenummer 2")

    goto(page, live_server(f"/schalter/{location_id}/statistik"))
    expect(page.locator("h1")).to_contain_text("Statistik")
    assert_accessible(page, "desk: statistics")


def test_the_department_admin_closes_a_day_and_the_citizen_gets_the_mail(
    page: Page, live_server: LiveServer, smtp_server
):
    from datetime import timedelta

    from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
    from tests.appointments.desk.builders import make_booking, today_at
    from tests.builders import PASSWORD, make_department, make_user
    from tests.e2e.helpers import deliver_mail, links_in

    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department)
        service = make_catalogue_service(department)
        offer(location, service)
        booking = make_booking(location, service, starts_at=today_at(10) + timedelta(days=1), email="berta@example.org")
        admin = make_user("chefin@stadt.example", department=department, department_role="department_admin", totp=True)
        location_id, reference, secret = location.id, booking.reference, admin.totp_secret
        day = (today_at(12) + timedelta(days=1)).date()
    assert secret

    sign_in(page, live_server, "chefin@stadt.example", PASSWORD, secret)
    goto(page, live_server(f"/schalter/{location_id}/tag-absagen"))
    expect(page.locator("h1")).to_contain_text("Tag absagen")
    assert_accessible(page, "desk: close a day")
    page.get_by_role("button", name="Weiter: Betroffene anzeigen").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "desk: close a day with errors")

    page.fill("#day", day.isoformat())
    page.fill("#reason", "Stromausfall im Gebäude")
    page.get_by_role("button", name="Weiter: Betroffene anzeigen").click()
    expect(page.locator("main dl")).to_contain_text("Betroffene Personen")
    expect(page.locator("main dl")).to_contain_text("Stromausfall im Gebäude")
    assert_accessible(page, "desk: who is affected by closing the day")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "desk: who is affected, on a phone")
    page.screenshot(path="/tmp/e2e-close-day-check-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Ja, Tag absagen und 1 Person benachrichtigen").click()
    expect(page.get_by_role("status").first).to_contain_text("1 Termin wurde abgesagt")
    expect(page.get_by_role("table")).to_contain_text("Abgesagt")

    deliver_mail(live_server.app)
    [mail] = smtp_server.messages_to("berta@example.org")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Stromausfall im Gebäude" in text
    assert reference in text
    assert links_in(mail, "/termine/")
    assert any(part.get_content_type() == "text/calendar" for part in mail.iter_attachments())
