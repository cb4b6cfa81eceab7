"""Staff land on their start page after signing in (desktop and a 390 px phone, axe-scanned)."""

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
