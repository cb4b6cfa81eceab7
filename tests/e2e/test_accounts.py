"""Registration, e-mail verification and sign-in in a real browser, with the mail sent over real SMTP."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, deliver_mail, goto, links_in, submit_main_form

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "ein-sehr-langes-Passwort-42"


def test_a_citizen_registers_confirms_the_mailed_link_and_signs_in(page: Page, live_server: LiveServer, smtp_server):
    goto(page, live_server("/"))
    page.get_by_role("navigation", name="Benutzerkonto").get_by_role("link", name="Registrieren").click()
    expect(page.locator("h1")).to_have_text("Registrieren")
    page.fill("#display_name", "Clara Citoyenne")
    page.fill("#email", "clara@example.org")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_confirm", NEW_PASSWORD)
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text("Bitte sehen Sie in Ihr Postfach")
    assert_accessible(page, "check-your-mail page")

    # Not signed in before the address is confirmed.
    goto(page, live_server("/anmelden"))
    page.fill("#email", "clara@example.org")
    page.fill("#password", NEW_PASSWORD)
    submit_main_form(page)
    expect(page.get_by_text("E-Mail-Adresse noch nicht bestätigt")).to_be_visible()

    deliver_mail(live_server.app)
    [mail] = smtp_server.messages_to("clara@example.org")
    [link] = links_in(mail, "/email-bestaetigen/")
    assert link.startswith(live_server.url)

    goto(page, link)
    # Opening the link only shows the button (mail scanners open links too).
    expect(page.locator("h1")).to_have_text("E-Mail-Adresse bestätigen")
    assert_accessible(page, "confirm-address page")
    submit_main_form(page)
    page.wait_for_url("**/anmelden")
    expect(page.get_by_role("status")).to_contain_text("bestätigt")
    assert_accessible(page, "sign-in page with a success message")
    page.fill("#email", "clara@example.org")
    page.fill("#password", NEW_PASSWORD)
    submit_main_form(page)
    page.wait_for_url("**/konto/")
    expect(page.locator("h1")).to_have_text("Mein Konto")
    expect(page.get_by_role("navigation", name="Benutzerkonto").get_by_role("button", name="Abmelden")).to_be_visible()


def test_staff_sign_in_asks_for_the_authenticator_code(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD, make_user

    with live_server.app.app_context():
        clerk = make_user("sachbearbeitung@stadt.example", roles=("platform_admin",), totp=True)
        secret = clerk.totp_secret
    assert secret

    goto(page, live_server("/anmelden"))
    page.fill("#email", "sachbearbeitung@stadt.example")
    page.fill("#password", PASSWORD)
    submit_main_form(page)
    page.wait_for_url("**/anmelden/zwei-faktor")
    expect(page.locator("h1")).to_have_text("Zwei-Faktor-Anmeldung")
    assert_accessible(page, "two-factor sign-in page")

    page.fill("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    submit_main_form(page)
    expect(page.locator("#code-error")).to_be_visible()
    assert_accessible(page, "two-factor sign-in page with an error")

    page.fill("#code", pyotp.TOTP(secret).now())
    submit_main_form(page)
    # Staff land on their start page with their work, not on the citizen's "Mein Konto".
    page.wait_for_url("**/arbeit/")
    expect(page.locator("h1")).to_have_text("Meine Arbeit")
    assert_accessible(page, "staff start page")
    goto(page, live_server("/admin/"))
    assert page.url == live_server("/admin/")
