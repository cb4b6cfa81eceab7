"""A business books in its own name and manages its invitations, in a real browser (desktop and a 390 px
phone); axe-core scans every page on the way. Screenshots go to $E2E_SCREENSHOTS when it is set."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from tests.appointments.web.builders import make_offers, open_tuesday
from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def look(page: Page, label: str) -> None:
    """Scan with axe, on the desktop and on a phone, and keep a screenshot of each for a person to look at."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    for name, size in (("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)):
        page.set_viewport_size(size)
        assert_accessible(page, f"{label} ({name})")
        if folder:
            page.screenshot(path=os.path.join(folder, f"{label.replace(' ', '_')}-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _business(live: LiveServer) -> int:
    from portal.accounts.models import Organisation, OrganisationMember
    from portal.extensions import db
    from tests.builders import make_user

    with live.app.app_context():
        make_offers()
        anna = make_user("anna@example.org", display_name="Anna Beispiel")
        organisation = Organisation(name="Muster Bau GmbH")
        organisation.members.append(OrganisationMember(user_id=anna.id, role="owner"))
        db.session.add(organisation)
        db.session.commit()
        return organisation.id


def test_a_booking_made_for_a_business_is_in_its_name_and_in_its_list(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD

    organisation_id = _business(live_server)
    sign_in(page, live_server, "anna@example.org", PASSWORD)
    goto(page, live_server(f"/organisationen/{organisation_id}"))
    page.get_by_role("button", name="Handeln für Muster Bau GmbH").click()
    expect(page.get_by_text("Sie handeln für Muster Bau GmbH")).to_be_visible()

    goto(page, live_server("/termine/buchen"))
    page.get_by_role("checkbox", name="Personalausweis beantragen").check()
    submit_main_form(page)
    expect(page.get_by_role("heading", name="Öffnungszeiten")).to_be_visible()
    look(page, "location step with opening hours")
    page.get_by_label("Bürgerbüro Nord", exact=False).check()
    submit_main_form(page)
    day = open_tuesday()
    goto(page, live_server(f"/termine/buchen/termin?ab={day.isoformat()}&tag={day.isoformat()}"))
    page.get_by_label("09:00 Uhr", exact=False).check()
    submit_main_form(page)
    submit_main_form(page)  # name and address come from the account
    expect(page.locator("h1")).to_have_text("Prüfen Sie Ihre Angaben")
    expect(page.locator("main")).to_contain_text("Gebucht für")
    expect(page.locator("main")).to_contain_text("Muster Bau GmbH")
    look(page, "business check page")
    submit_main_form(page)
    page.wait_for_url("**/termine/buchen/gebucht")
    expect(page.locator("main")).to_contain_text("Muster Bau GmbH")
    reference = page.locator("strong").filter(has_text="T-").first.inner_text()
    look(page, "business confirmation")

    goto(page, live_server(f"/organisationen/{organisation_id}"))
    page.get_by_role("link", name="Termine der Organisation").click()
    expect(page.locator("h1")).to_have_text("Termine von Muster Bau GmbH")
    expect(page.locator("main")).to_contain_text(reference)
    look(page, "business bookings")


def test_an_owner_withdraws_an_open_invitation(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD

    organisation_id = _business(live_server)
    sign_in(page, live_server, "anna@example.org", PASSWORD)
    goto(page, live_server(f"/organisationen/{organisation_id}"))
    page.fill("#invite-email", "bob@example.org")
    page.get_by_role("button", name="Einladung senden").click()
    expect(page.get_by_text("Die Einladung an bob@example.org ist verschickt.")).to_be_visible()
    look(page, "organisation with an open invitation")
    page.get_by_role("button", name="Zurückziehen Einladung an bob@example.org").click()
    expect(page.get_by_text("Die Einladung an bob@example.org ist zurückgezogen.")).to_be_visible()
    expect(page.get_by_role("button", name="Zurückziehen Einladung an bob@example.org")).to_have_count(0)
    assert_accessible(page, "organisation after withdrawing")
