"""Helpers for the browser tests: the served app, mail delivery, signing in, the axe scan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, Response

_axe = Axe()


@dataclass
class LiveServer:
    app: Flask
    url: str

    def __call__(self, path: str) -> str:
        return self.url + path


def deliver_mail(app: Flask) -> None:
    """Send the outbox now, as the outbox worker would."""
    from portal.mail.delivery import deliver_pending

    with app.app_context():
        deliver_pending()


LINK_RE = re.compile(r"https?://[^\s<>\"']+")


def links_in(message: Any, path_part: str) -> list[str]:
    """The links in a received mail (its plain-text part) whose address contains `path_part`."""
    body = message.get_body(preferencelist=("plain",)) or message
    return [link.rstrip(".,)") for link in LINK_RE.findall(body.get_content()) if path_part in link]


def submit_main_form(page: Page) -> None:
    """Press the submit button of the page's form in <main> (the header has forms of its own)."""
    page.locator("main form button[type=submit]").last.click()


def forget_person(page: Page) -> None:
    """The next person at the same browser: leave the page first, so that no request of it still in flight (an
    asset, whose answer may refresh the session cookie) brings the last person's cookie back after the clearing."""
    page.goto("about:blank")
    page.context.clear_cookies()


def sign_in(page: Page, live: LiveServer, email: str, password: str, totp_secret: str | None = None) -> None:
    page.goto(live("/anmelden"))
    page.fill("#email", email)
    page.fill("#password", password)
    submit_main_form(page)
    if totp_secret is not None:
        page.wait_for_url("**/anmelden/zwei-faktor")
        page.fill("#code", pyotp.TOTP(totp_secret).now())
        submit_main_form(page)
    # Citizens land on Mein Konto, staff on their start page (or either on the page that asks for 2FA set-up).
    page.wait_for_url(re.compile(r".*/(konto|arbeit)/.*"))


def axe_violations(page: Page) -> tuple[int, str]:
    results = _axe.run(page)
    return results.violations_count, results.generate_report()


def assert_accessible(page: Page, label: str = "") -> None:
    count, report = axe_violations(page)
    assert count == 0, f"axe found {count} violation(s) on {label or page.url}:\n{report}"


def goto(page: Page, url: str) -> Response:
    response = page.goto(url)
    assert response is not None, url
    return response
