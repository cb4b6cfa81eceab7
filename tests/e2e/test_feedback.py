"""The accessibility feedback form in the browser, without JavaScript: errors, kept values, delivery."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import LiveServer, deliver_mail, goto, submit_main_form

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser: Browser, browser_context_args: dict):
    """A browser with JavaScript switched off: the portal must work without it."""
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_feedback_reaches_the_accessibility_contact_without_javascript(
    page: Page, live_server: LiveServer, smtp_server
):
    goto(page, live_server("/termine/"))
    page.get_by_role("link", name="Barriere melden").click()
    expect(page.locator("#page")).to_have_value("/termine/")

    page.fill("#name", "Berta Beispiel")
    page.fill("#email", "berta@")
    submit_main_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#message-error")).to_contain_text("Beschreiben Sie bitte die Barriere")
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Berta Beispiel")
    expect(page.locator("#page")).to_have_value("/termine/")

    page.fill("#email", "berta@example.org")
    page.fill("#message", "Der Kalender lässt sich nicht mit der Tastatur bedienen.")
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text("Vielen Dank für Ihre Rückmeldung")

    deliver_mail(live_server.app)
    [mail] = smtp_server.messages_to("barrierefreiheit@stadt.example")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Der Kalender lässt sich nicht mit der Tastatur bedienen." in body
    assert "/termine/" in body and "berta@example.org" in body


def test_language_switch_works_without_javascript(page: Page, live_server: LiveServer):
    goto(page, live_server("/impressum"))
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/impressum")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("link", name="Deutsch")).to_be_visible()
