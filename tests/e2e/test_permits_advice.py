"""The advisory appointment of a special-use permit (issue 10) in Chromium at 1280 px and 390 px: the applicant
follows "Beratungstermin buchen" from the case page, the booking pages carry the case to the check and done pages,
the case page lists the appointment, and the clerk sees it on the case. axe-core scans every page looked at."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.appointments.web.builders import open_tuesday
from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form
from tests.e2e.test_appointments_booking import to_check_page

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _case(live: LiveServer) -> tuple[str, str, str]:
    """A submitted container on the Markt; the Tiefbauamt's advice at the Technisches Rathaus. (public id,
    reference, clerk's TOTP secret)"""
    from permits.services import applications
    from permits.services.quotes import today_in_berlin
    from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
    from tests.permits.builders import make_draft, make_world

    with live.app.app_context():
        world = make_world()
        location = make_bookable_location(department=world.department, name="Technisches Rathaus", counters=1)
        offer(location, make_catalogue_service(world.department, "Beratung Sondernutzung"), minutes=30)
        first = today_in_berlin() + timedelta(days=60)
        actor = world.applicant_actor
        application = applications.submit(actor, make_draft(actor, start=first, end=first + timedelta(days=2)))
        assert world.officer.totp_secret
        return application.public_id, application.reference or "", world.officer.totp_secret


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_applicant_books_advice_for_the_case_and_the_clerk_sees_it(
    page: Page, browser: Browser, live_server: LiveServer, viewport
):
    from tests.builders import PASSWORD

    live = live_server
    name = "phone" if viewport is PHONE else "desktop"
    page.set_viewport_size(viewport)
    public_id, reference, clerk_secret = _case(live)
    sign_in(page, live, "antrag@example.org", PASSWORD)
    goto(page, live(f"/sondernutzung/antraege/{public_id}"))
    expect(page.get_by_role("heading", name="Beratungstermin")).to_be_visible()
    page.get_by_role("link", name="Beratungstermin buchen").click()

    expect(page.get_by_role("checkbox", name="Beratung Sondernutzung")).to_be_checked()
    to_check_page(page, "Technisches Rathaus", open_tuesday(), "09:00 Uhr", "Erika Antrag", "antrag@example.org")
    case_link = page.get_by_role("link", name=f"Antrag auf Sondernutzung {reference}")
    expect(case_link).to_be_visible()  # the check page names the case the appointment is for
    assert_accessible(page, f"check page with the case ({name})")
    submit_main_form(page)
    page.wait_for_url("**/termine/buchen/gebucht")
    expect(page.get_by_role("link", name=f"Antrag auf Sondernutzung {reference}")).to_be_visible()
    assert_accessible(page, f"done page with the case ({name})")
    page.screenshot(path=f"/tmp/e2e-permit-advice-done-{name}.png", full_page=True)

    page.get_by_role("link", name=f"Antrag auf Sondernutzung {reference}").click()
    appointments = page.locator("#beratungstermine")
    expect(appointments).to_contain_text("Technisches Rathaus")
    assert_accessible(page, f"case page with its advice ({name})")
    page.screenshot(path=f"/tmp/e2e-permit-advice-case-{name}.png", full_page=True)

    clerk_context = browser.new_context(locale="de-DE", viewport=viewport)
    clerk = clerk_context.new_page()
    clerk.set_default_timeout(15000)
    sign_in(clerk, live, "tiefbau@example.org", PASSWORD, totp_secret=clerk_secret)
    goto(clerk, live(f"/sondernutzung/amt/{public_id}"))
    expect(clerk.locator("#beratungstermine")).to_contain_text("Technisches Rathaus")
    assert_accessible(clerk, f"clerk's case with the advice ({name})")
    clerk_context.close()
