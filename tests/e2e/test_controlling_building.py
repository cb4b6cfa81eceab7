"""The controlling dashboard and the citizen's building page in a real browser, with axe on each page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in

pytestmark = pytest.mark.e2e


def test_the_it_coordination_filters_the_months_and_reads_charts_and_tables(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD, make_user
    from tests.controlling.test_dashboard import make_case
    from tests.permits.builders import make_catalogue

    with live_server.app.app_context():
        make_catalogue()
        for days in (2, 5, 9):
            make_case(datetime(2026, 3, 2, 9, tzinfo=UTC), days=days)
        make_case(datetime(2026, 4, 2, 9, tzinfo=UTC), use_type="event")
        viewer = make_user("it@stadt.example", roles=("controlling",), totp=True)
        secret = viewer.totp_secret
    sign_in(page, live_server, "it@stadt.example", PASSWORD, secret)
    goto(page, live_server("/admin/"))
    page.get_by_role("link", name="E-Government-Controlling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("E-Government-Controlling")
    page.fill("#von", "2026-03")
    page.fill("#bis", "2026-05")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/controlling/?von=2026-03&bis=2026-05")
    table = page.locator("#permits_processing-table")
    expect(table.locator("tr[data-month='2026-03'] td[data-key='median']")).to_have_text("5,0")
    expect(table.locator("tr[data-month='2026-03'] td[data-key='decided']")).to_have_text("3")
    expect(page.locator("#applications svg[role=img] rect")).to_have_count(2)  # March and April, one service each
    with page.expect_download() as download:
        page.locator("#csv-export").click()
    assert download.value.suggested_filename.startswith("controlling-2026-03-2026-05")
    assert_accessible(page, "controlling dashboard")


def test_the_citizen_reads_their_building_applications_and_books_the_advice(page: Page, live_server: LiveServer):
    from building.setup import connect_portal_client
    from dataaccess.services import catalogue
    from portal.actors import SYSTEM, Actor
    from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
    from tests.builders import PASSWORD
    from tests.dataaccess.builders import approved_agreement, make_world

    with live_server.app.app_context():
        world = make_world()
        purpose = catalogue.save_purpose(Actor.for_user(world.dpo), code="AUSK-BETR", label="Auskunft an Betroffene")
        agreement = approved_agreement(world, purposes=[purpose.code], fields=["aktenzeichen", "vorhaben", "status"])
        connect_portal_client(SYSTEM, agreement.reference)
        location = make_bookable_location(department=world.bauamt, name="Technisches Rathaus")
        offer(location, make_catalogue_service(world.bauamt, "Beratung Bauantrag"))
        email = world.citizen.email
    sign_in(page, live_server, email, PASSWORD)
    goto(page, live_server("/"))
    page.locator("main").get_by_role("link", name="Bauen").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bauen")
    assert_accessible(page, "building page")
    page.locator("#read-applications").click()
    rows = page.locator("#building-applications tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("BG-2025-0101")
    expect(rows.first).to_contain_text("genehmigt")
    assert_accessible(page, "building applications")
    goto(page, live_server("/konto/datenzugriffe"))
    expect(page.locator("main")).to_contain_text("Selbstauskunft im Bürgerportal")
    goto(page, live_server("/bauen/"))
    page.locator("#book-advice").click()
    expect(page.get_by_role("checkbox", name="Beratung Bauantrag")).to_be_checked()
