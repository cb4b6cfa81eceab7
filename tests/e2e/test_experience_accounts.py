"""Staff land on their start page; a citizen downloads their data as CSV (desktop and 390 px, axe-scanned)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, sign_in
from tests.e2e.test_experience_business import look

pytestmark = pytest.mark.e2e


def test_a_clerk_lands_on_the_start_page_with_the_desk(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD, make_department, make_user

    with live_server.app.app_context():
        clerk = make_user("clara@stadt.example", department=make_department(), department_role="clerk", totp=True)
        secret = clerk.totp_secret
    sign_in(page, live_server, "clara@stadt.example", PASSWORD, secret)
    page.wait_for_url("**/arbeit/")
    expect(page.locator("h1")).to_have_text("Meine Arbeit")
    expect(page.get_by_role("link", name="Schalter (Termine)")).to_be_visible()
    header = page.get_by_role("navigation", name="Benutzerkonto")
    expect(header.get_by_role("link", name="Meine Arbeit")).to_be_visible()
    expect(page.get_by_text("Konto löschen")).to_have_count(0)
    look(page, "staff start page")


def test_a_citizen_downloads_their_data_with_bookings_as_csv_tables(page: Page, live_server: LiveServer):
    import zipfile

    from tests.appointments.booking.builders import make_office
    from tests.builders import PASSWORD, make_user
    from tests.portal.gdpr.builders import booked

    with live_server.app.app_context():
        reference = booked(make_office(), make_user("erika@example.org")).booking.reference
    sign_in(page, live_server, "erika@example.org", PASSWORD)
    page.goto(live_server("/konto/daten"))
    expect(page.locator("main")).to_contain_text(f"Termin {reference}")
    look(page, "my data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Als CSV-Tabellen", exact=False).click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert reference in archive.read("services-appointments-bookings.csv").decode("utf-8-sig")
