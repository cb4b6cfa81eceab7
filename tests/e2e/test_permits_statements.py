"""Departments answering inside a permit case, and the applicant's once-only request, in real browsers: the clerk
asks the traffic office for a statement; its member finds it from /arbeit and answers with conditions; the clerk
sees the answer and the conditions in the permit form. The applicant, whose agreement needs their own request,
asks for the read from the case page, and the clerk's consultation goes through. axe-core scans every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in

pytestmark = pytest.mark.e2e


def _case(live: LiveServer) -> tuple[str, str, str, str]:
    """An accepted container on the Markt under an agreement needing the citizen's request; the traffic office
    with a member. (public id, reference, clerk's TOTP secret, member's TOTP secret)."""
    from permits.services import applications, desk
    from permits.services.quotes import today_in_berlin
    from tests.builders import make_department, make_user
    from tests.permits.builders import make_building_agreement, make_draft, make_world

    with live.app.app_context():
        world = make_world()
        make_building_agreement(live.app, world, requires_citizen_request=True)
        office = make_department("strassenverkehr", "Straßenverkehrsbehörde")
        member = make_user("svb@example.org", department=office, department_role="clerk", totp=True)
        first = today_in_berlin() + timedelta(days=60)
        actor = world.applicant_actor
        draft = make_draft(actor, start=first, end=first + timedelta(days=2), carriageway_affected=True)
        application = desk.accept(world.officer_actor, applications.submit(actor, draft))
        assert world.officer.totp_secret and member.totp_secret
        return application.public_id, application.reference or "", world.officer.totp_secret, member.totp_secret


def test_traffic_office_answers_in_the_case_and_the_applicants_request_opens_the_consultation(
    page: Page, browser: Browser, live_server: LiveServer
):
    from tests.builders import PASSWORD

    live = live_server
    public_id, reference, clerk_secret, member_secret = _case(live)
    clerk_context = browser.new_context(locale="de-DE")
    clerk = clerk_context.new_page()
    clerk.set_default_timeout(15000)
    sign_in(clerk, live, "tiefbau@example.org", PASSWORD, totp_secret=clerk_secret)
    goto(clerk, live(f"/sondernutzung/amt/{public_id}"))
    clerk.get_by_role("button", name="Um Stellungnahme bitten").click()
    expect(clerk.locator("#error-summary")).to_be_visible()
    assert_accessible(clerk, "statement request with errors")
    clerk.select_option("#department_id", label="Straßenverkehrsbehörde")
    clerk.fill("#question", "Ist eine verkehrsrechtliche Anordnung nötig?")
    clerk.fill("#due_on", (live_today() + timedelta(days=14)).isoformat())
    clerk.get_by_role("button", name="Um Stellungnahme bitten").click()
    expect(clerk.get_by_text("um eine Stellungnahme gebeten")).to_be_visible()
    assert_accessible(clerk, "case with an open statement request")

    office_context = browser.new_context(locale="de-DE")
    office = office_context.new_page()
    office.set_default_timeout(15000)
    sign_in(office, live, "svb@example.org", PASSWORD, totp_secret=member_secret)
    goto(office, live("/arbeit/"))
    office.get_by_role("link", name="Sondernutzung: Bitten um Stellungnahme").click()
    assert_accessible(office, "open statement requests")
    office.get_by_role("link", name=reference).click()
    assert_accessible(office, "statement page")
    office.get_by_label("Zustimmung mit Auflagen").check()
    office.fill("#conditions", "Absperrung nach RSA 21")
    office.get_by_role("button", name="Stellungnahme abgeben").click()
    expect(office.get_by_text("Ihre Stellungnahme ist abgegeben")).to_be_visible()
    assert_accessible(office, "answered statement")

    clerk.reload()
    expect(clerk.locator("main")).to_contain_text("Zustimmung mit Auflagen")
    expect(clerk.locator("#conditions")).to_have_value("Absperrung nach RSA 21")
    clerk.get_by_role("button", name="Beim Bauordnungsamt abrufen").click()
    expect(clerk.get_by_text("noch nicht gestellt")).to_be_visible()

    sign_in(page, live, "antrag@example.org", PASSWORD)
    goto(page, live(f"/sondernutzung/antraege/{public_id}"))
    assert_accessible(page, "applicant's case with the once-only offer")
    page.get_by_role("link", name="Abruf ansehen und beantragen").click()
    expect(page.locator("main")).to_contain_text("Prüfung Sondernutzung")
    assert_accessible(page, "once-only preview")
    page.get_by_role("button", name="Ja, abrufen lassen").click()
    expect(page.locator("#datenabruf-status")).to_be_visible()

    clerk.reload()
    clerk.get_by_role("button", name="Beim Bauordnungsamt abrufen").click()
    expect(clerk.get_by_role("cell", name="BG-2026-0500")).to_be_visible()
    office_context.close()
    clerk_context.close()


def live_today():
    from permits.services.quotes import today_in_berlin

    return today_in_berlin()
