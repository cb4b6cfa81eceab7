"""The accounts pages in the states a route scan cannot reach (errors, locks, codes, invitations, acting for a
business, a refused deletion) pass axe-core."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e


def test_sign_in_errors_lock_and_second_factor_pages_are_accessible(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD, make_user

    with live_server.app.app_context():
        live_server.app.config.update(LOGIN_LOCK_AFTER=2, LOGIN_SLOW_SECONDS=0)
        make_user("clara@example.org", roles=("moderator",), totp=True)
        make_user("anna@example.org")
        make_user("nina@example.org", verified=False)

    goto(page, live_server("/anmelden"))
    page.fill("#email", "nina@example.org")
    page.fill("#password", PASSWORD)
    submit_main_form(page)
    assert "noch nicht bestätigt" in page.content()
    assert_accessible(page, "unverified sign-in")

    for _ in range(2):
        goto(page, live_server("/anmelden"))
        page.fill("#email", "anna@example.org")
        page.fill("#password", "falsch-falsch-falsch")
        submit_main_form(page)
    assert re.search(r"wieder möglich um \d\d:\d\d", page.content())
    assert_accessible(page, "locked sign-in")

    goto(page, live_server("/anmelden"))
    page.fill("#email", "clara@example.org")
    page.fill("#password", PASSWORD)
    submit_main_form(page)
    page.wait_for_url("**/anmelden/zwei-faktor")
    page.fill("#code", "000000")
    submit_main_form(page)
    assert "nicht gültig" in page.content()
    assert_accessible(page, "second factor with error")

    for path in ("/registrieren", "/passwort-vergessen", "/email-bestaetigen/unsinn", "/passwort-zuruecksetzen/x"):
        goto(page, live_server(path))
        assert_accessible(page, path)
    goto(page, live_server("/registrieren"))
    submit_main_form(page)
    assert_accessible(page, "registration with errors")


def test_two_factor_setup_codes_sessions_and_organisation_pages_are_accessible(page: Page, live_server: LiveServer):
    from portal.accounts.models import User
    from portal.extensions import db
    from tests.builders import PASSWORD, make_user

    with live_server.app.app_context():
        user_id = make_user("dora@example.org").id
        make_user("bob@example.org")
    sign_in(page, live_server, "dora@example.org", PASSWORD)

    goto(page, live_server("/konto/zwei-faktor/einrichten"))
    assert_accessible(page, "two-factor setup")
    with live_server.app.app_context():
        secret = db.session.get(User, user_id).totp_secret
    page.fill("#code", pyotp.TOTP(secret).now())
    submit_main_form(page)
    assert page.locator("main code").count() == 10
    assert_accessible(page, "recovery codes")

    goto(page, live_server("/konto/sicherheit"))
    assert_accessible(page, "security with two-factor on")
    page.fill("#totp-current_password", PASSWORD)
    page.fill("#totp-code", "000000")
    page.locator("form[action$='/zwei-faktor/ausschalten'] button[type=submit]").click()
    assert "Der Code ist nicht gültig" in page.content()
    assert_accessible(page, "switching two-factor off, with an error")

    goto(page, live_server("/organisationen/neu"))
    page.fill("#name", "Bäckerei Korn GmbH")
    submit_main_form(page)
    page.wait_for_url(re.compile(r".*/organisationen/\d+$"))
    assert_accessible(page, "organisation detail")
    page.fill("#invite-email", "bob@example.org")
    page.locator("main form button[type=submit]").last.click()
    assert "bob@example.org" in page.content()
    assert_accessible(page, "organisation with open invitation")

    import sqlalchemy as sa

    from portal.mail.models import OutboxMessage

    with live_server.app.app_context():
        body = db.session.scalar(sa.select(OutboxMessage.body_text).where(OutboxMessage.recipient == "bob@example.org"))
    link = re.search(r"https?://\S+/einladung/\S+", body or "")
    assert link is not None
    goto(page, link.group(0))
    submit_main_form(page)  # Dora is signed in, but the invitation is Bob's: the refusal is shown
    assert "andere E-Mail-Adresse" in page.content()
    assert_accessible(page, "invitation refused")

    # Acting for the business: the header says so and offers the way back.
    goto(page, live_server("/organisationen/"))
    page.locator("main form button[type=submit]").first.click()
    assert "Sie handeln für Bäckerei Korn GmbH" in page.content()
    assert_accessible(page, "header while acting for an organisation")

    # The only owner cannot delete the account: the refusal names the business.
    goto(page, live_server("/konto/loeschen"))
    page.fill("#password", PASSWORD)
    page.check("#confirm")
    submit_main_form(page)
    assert "Ihr Konto kann noch nicht gelöscht werden" in page.content()
    assert_accessible(page, "deletion refused for the only owner")

    page.locator("header form button[type=submit]", has_text="Wieder für mich selbst handeln").click()
    assert "Sie handeln wieder für sich selbst" in page.content()
    assert "Sie handeln für Bäckerei" not in page.content()
