"""axe-core finds no violations on any page of the portal: public, signed in, and as platform admin.

The pages come from the app's url_map (GET routes without URL parameters), so a new page is scanned
as soon as its route exists. Routes that answer with something other than HTML, or send the browser
elsewhere, are skipped (the page they lead to is scanned under its own address).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from portal import access
from tests.e2e.helpers import LiveServer, assert_accessible, axe_violations, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e

# Not pages: machine answers, or hand-offs to another site.
NOT_PAGES = {
    "static",
    "pages.healthz",
    "pages.readyz",
    "pages.favicon",
    "api-docs.openapi_json",
    "oidc.login",
    "oidc.callback",
}


def _get_pages(app: Flask, wanted: Callable[[access.AccessRule], bool]) -> list[str]:
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.endpoint in NOT_PAGES:
            continue
        if rule.rule.startswith("/api/v1/"):
            continue
        access_rule = access.rule_for(app, rule.endpoint)
        if access_rule is not None and wanted(access_rule):
            paths.add(rule.rule)
    return sorted(paths)


def _scan(page: Page, live: LiveServer, paths: list[str]) -> None:
    failures, skipped, scanned = [], [], []
    for path in paths:
        try:
            response = goto(page, live(path))
        except PlaywrightError as error:
            if "Download is starting" not in str(error):
                raise
            skipped.append(f"{path} (a download)")
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            skipped.append(f"{path} (not HTML)")
            continue
        if page.url.split("?")[0].split("#")[0] != live(path):
            skipped.append(f"{path} (went on to {page.url})")
            continue
        if response.status >= 500 and response.status != 501:
            failures.append(f"{path}: HTTP {response.status}")
            continue
        scanned.append(path)
        count, report = axe_violations(page)
        if count:
            failures.append(f"{path}: {count} violation(s)\n{report}")
    print(f"scanned {len(scanned)}: {scanned}\nskipped: {skipped}")
    assert scanned, "no page scanned"
    assert not failures, "\n\n".join(failures)


def test_the_scan_reports_a_known_fault(page: Page):
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    count, report = axe_violations(page)
    assert count >= 2, report


def test_public_pages_have_no_axe_violations(page: Page, live_server: LiveServer):
    paths = _get_pages(live_server.app, lambda rule: rule.kind == "public")
    assert {"/", "/impressum", "/datenschutz", "/barrierefreiheit", "/api", "/anmelden", "/registrieren"} <= set(paths)
    _scan(page, live_server, paths)


def test_feedback_form_with_errors_has_no_axe_violations(page: Page, live_server: LiveServer):
    goto(page, live_server("/barrierefreiheit"))
    page.fill("#email", "keine-adresse")
    submit_main_form(page)
    # autofocus takes keyboard and screen reader users straight to the summary, without JavaScript.
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#message-error")).to_be_visible()
    assert_accessible(page, "feedback form with errors")


def test_sign_in_form_with_errors_has_no_axe_violations(page: Page, live_server: LiveServer):
    goto(page, live_server("/anmelden"))
    submit_main_form(page)
    page.wait_for_selector("#error-summary")
    assert_accessible(page, "sign-in form with errors")


def test_pages_in_dark_mode_have_no_axe_violations(page: Page, live_server: LiveServer):
    """KERN follows the system's dark mode; our own colours must keep their contrast there too."""
    page.emulate_media(color_scheme="dark")
    _scan(page, live_server, ["/", "/barrierefreiheit", "/anmelden"])
    submit_main_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "sign-in form with errors, dark mode")


def test_not_found_page_has_no_axe_violations(page: Page, live_server: LiveServer):
    response = goto(page, live_server("/gibt-es-nicht"))
    assert response.status == 404
    assert_accessible(page, "404 page")


def test_signed_in_pages_have_no_axe_violations(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD, make_user

    with live_server.app.app_context():
        make_user("citizen@example.org")
    sign_in(page, live_server, "citizen@example.org", PASSWORD)
    paths = _get_pages(live_server.app, lambda rule: rule.kind == "signed_in")
    assert "/konto/" in paths
    _scan(page, live_server, paths)


def test_admin_pages_have_no_axe_violations(page: Page, live_server: LiveServer):
    from tests.builders import PASSWORD, make_department, make_location, make_user

    with live_server.app.app_context():
        department = make_department()
        make_location(department)
        admin = make_user("admin@stadt.example", roles=("platform_admin",), totp=True)
        secret = admin.totp_secret
    sign_in(page, live_server, "admin@stadt.example", PASSWORD, totp_secret=secret)
    paths = _get_pages(live_server.app, lambda rule: rule.kind in ("role", "staff"))
    assert "/admin/" in paths
    _scan(page, live_server, paths)
