"""axe-core finds no violations on the waitlist and reminder pages, empty, with errors and filled in.

Runs in headless Chromium with the browser fixtures of tests/e2e (see conftest.py), marked e2e like them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from appointments.services.booking import cancel_booking
from appointments.services.reminders import send_reminders
from portal.actors import ANONYMOUS
from tests.appointments.booking.builders import at, book, mails_to, make_office, workday
from tests.appointments.waitlist.builders import join, offer_link
from tests.e2e.helpers import LiveServer, assert_accessible, goto, submit_main_form

pytestmark = pytest.mark.e2e

REMINDER = re.compile(r"/termine/erinnerung/T-\d{4}-\d+/[A-Za-z0-9_-]+/(?:komme|freigeben)")


def test_waitlist_and_reminder_pages_are_accessible(page: Page, live_server: LiveServer):
    with live_server.app.app_context():
        office = make_office(counters=1)
        day = workday()
        start = at(day, 9, 0)
        held = book(office, start)
        joined = join(office, "first@example.org", day)
        cancel_booking(ANONYMOUS, held.booking)
        reference, token = offer_link("first@example.org")
        reminded = book(office, at(day, 11, 0), email="max@example.org")
        send_reminders(now=reminded.booking.starts_at - timedelta(hours=1))
        reminder_paths = REMINDER.findall(mails_to("max@example.org")[-1].body_text)
        assert len(reminder_paths) == 2
        entry_path = f"/termine/warteliste/{joined.entry.id}/{joined.token}"

    goto(page, live_server("/termine/warteliste"))
    assert_accessible(page, "waitlist join page")
    page.fill("#email", "kaputt")
    submit_main_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "waitlist join page with errors")

    for path in (entry_path, f"/termine/angebot/{reference}/{token}", *reminder_paths):
        assert goto(page, live_server(path)).status == 200, path
        assert_accessible(page, path)
