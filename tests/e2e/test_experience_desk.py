"""A department admin gives the waiting room's screen a display link; the screen shows the queue as a kiosk
page (desktop and a 390 px phone, axe-scanned), and stops when the link is revoked."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, goto, sign_in
from tests.e2e.test_experience_business import look

pytestmark = pytest.mark.e2e


def test_a_display_link_opens_the_kiosk_view_until_revoked(page: Page, live_server: LiveServer):
    from appointments.services import desk
    from portal.actors import Actor
    from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
    from tests.appointments.desk.builders import make_booking, today_at
    from tests.builders import PASSWORD, make_department, make_user

    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department, counters=2)
        service = make_catalogue_service(department)
        offer(location, service, minutes=15)
        admin = make_user("chefin@stadt.example", department=department, department_role="department_admin", totp=True)
        actor = Actor.for_user(admin)
        for hour, name in ((8, "Berta Bürgerin"), (9, "Carl Client")):
            booking = make_booking(location, service, starts_at=today_at(hour), name=name, seat=hour % 2)
            desk.check_in(actor, location.id, booking.reference)
        desk.call_next(actor, location.id, "Schalter 2")
        location_id, secret = location.id, admin.totp_secret

    sign_in(page, live_server, "chefin@stadt.example", PASSWORD, secret)
    goto(page, live_server(f"/schalter/{location_id}/bildschirme"))
    expect(page.locator("h1")).to_have_text("Bildschirme im Wartebereich")
    page.fill("#label", "Wartebereich Erdgeschoss")
    page.get_by_role("button", name="Anzeige-Link anlegen").click()
    link = page.locator(".kern-alert a").get_attribute("href")
    assert link and "/anzeige/" in link
    look(page, "display links")

    screen = page.context.browser.new_context(locale="de-DE").new_page()  # nobody signed in on the screen
    goto(screen, link)
    expect(screen.locator("h1")).to_contain_text("Aufruf")
    expect(screen.get_by_role("table")).to_contain_text("Schalter 2")
    expect(screen.locator("body")).not_to_contain_text("Berta")
    expect(screen.get_by_role("link")).to_have_count(0)
    look(screen, "kiosk display")

    page.get_by_role("button", name="Widerrufen Wartebereich Erdgeschoss").click()
    expect(page.get_by_text("ist widerrufen")).to_be_visible()
    assert goto(screen, link).status == 404


def test_adding_a_closure_shows_its_bookings_and_cancels_them(page: Page, live_server: LiveServer):
    from datetime import timedelta

    from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
    from tests.appointments.desk.builders import make_booking, today_at
    from tests.builders import PASSWORD, make_department, make_user

    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department, counters=2)
        service = make_catalogue_service(department)
        offer(location, service, minutes=15)
        admin = make_user("chefin@stadt.example", department=department, department_role="department_admin", totp=True)
        starts = today_at(9) + timedelta(days=2)
        make_booking(location, service, starts_at=starts, name="Ina Innen", email="ina@example.org")
        location_id, secret, day = location.id, admin.totp_secret, starts.date().isoformat()

    sign_in(page, live_server, "chefin@stadt.example", PASSWORD, secret)
    goto(page, live_server(f"/admin/termine/standorte/{location_id}/schliesstage"))
    page.fill("#first_day", day)
    page.fill("#reason", "Umzug")
    page.get_by_role("button", name="Schließtage eintragen").click()
    expect(page.locator("h1")).to_contain_text("Gebuchte Termine in der Schließzeit")
    expect(page.get_by_role("table")).to_contain_text("Ina Innen")
    look(page, "closure bookings")
    page.get_by_role("button", name="1 Termin absagen").click()
    expect(page.get_by_text("1 Termin wurde abgesagt")).to_be_visible()


def test_rate_limits_are_set_as_number_and_unit(page: Page, live_server: LiveServer):
    from tests.appointments.builders import make_bookable_location
    from tests.builders import PASSWORD, make_department, make_user

    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department)
        admin = make_user("chefin@stadt.example", department=department, department_role="department_admin", totp=True)
        location_id, secret = location.id, admin.totp_secret

    sign_in(page, live_server, "chefin@stadt.example", PASSWORD, secret)
    goto(page, live_server(f"/admin/termine/standorte/{location_id}/"))
    page.get_by_label("Buchungen höchstens").fill("25")
    page.get_by_label("Zeitraum für Buchungen").select_option("day")
    page.get_by_role("button", name="Einstellungen speichern").click()
    expect(page.get_by_text("Die Einstellungen wurden gespeichert.")).to_be_visible()
    expect(page.get_by_label("Buchungen höchstens")).to_have_value("25")
    expect(page.get_by_label("Zeitraum für Buchungen")).to_have_value("day")
    look(page, "location settings")


def test_an_opening_interval_is_edited(page: Page, live_server: LiveServer):
    from tests.appointments.builders import make_bookable_location
    from tests.builders import PASSWORD, make_department, make_user

    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department)
        admin = make_user("chefin@stadt.example", department=department, department_role="department_admin", totp=True)
        location_id, secret = location.id, admin.totp_secret

    sign_in(page, live_server, "chefin@stadt.example", PASSWORD, secret)
    goto(page, live_server(f"/admin/termine/standorte/{location_id}/oeffnungszeiten"))
    page.get_by_role("link", name="Ändern", exact=False).first.click()
    expect(page.locator("h1")).to_contain_text("Öffnungszeit ändern")
    look(page, "opening interval edit")
    page.fill("#closes", "11:30")
    page.get_by_role("button", name="Änderung speichern").click()
    expect(page.get_by_text("Die Öffnungszeit wurde geändert.")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("11:30")
    look(page, "opening hours")
