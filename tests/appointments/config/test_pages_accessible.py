"""axe-core finds no violations on the configuration and feed pages, filled in and with errors.

Runs in headless Chromium with the browser fixtures of tests/e2e (see conftest.py), marked e2e like them.
"""

from __future__ import annotations

from datetime import date, time

import pytest
from playwright.sync_api import Page, expect

from appointments.models import Closure, OpeningPeriod
from portal.extensions import db
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.builders import PASSWORD, make_department, make_user
from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e


def test_configuration_and_feed_pages_are_accessible(page: Page, live_server: LiveServer):
    with live_server.app.app_context():
        department = make_department()
        location = make_bookable_location(department=department)
        offer(location, make_catalogue_service(department, "Reisepass beantragen"), minutes=20)
        db.session.add(OpeningPeriod(location_id=location.id, weekday=5, opens=time(9), closes=time(12)))
        db.session.add(Closure(location_id=location.id, first_day=date(2030, 1, 2), last_day=date(2030, 1, 2)))
        db.session.commit()
        admin = make_user(
            "amtsadmin@stadt.example", department=department, department_role="department_admin", totp=True
        )
        secret, location_id = admin.totp_secret, location.id
    sign_in(page, live_server, "amtsadmin@stadt.example", PASSWORD, totp_secret=secret)
    base = f"/admin/termine/standorte/{location_id}/"

    for path in ("/admin/termine/", base, base + "leistungen", base + "oeffnungszeiten", base + "schliesstage"):
        response = goto(page, live_server(path))
        assert response.status == 200, path
        assert_accessible(page, path)

    goto(page, live_server(base))
    page.fill("#held_back_seats", "9")
    submit_main_form(page)
    expect(page.locator("#held_back_seats-error")).to_be_visible()
    assert_accessible(page, "settings with an error")

    goto(page, live_server(base + "oeffnungszeiten"))
    page.check("#weekdays-0")
    page.fill("#opens", "12:00")
    page.fill("#closes", "08:00")
    submit_main_form(page)
    expect(page.locator("#closes-error")).to_be_visible()
    assert_accessible(page, "opening hours with an error")

    goto(page, live_server("/termine/kalender/"))
    assert_accessible(page, "feeds, none yet")
    page.check("#show_names")
    submit_main_form(page)
    expect(page.locator(".feed-url")).to_contain_text("/termine/kalender/")
    assert_accessible(page, "feed just created")
