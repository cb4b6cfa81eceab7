"""Reminder mails: sent once and only in the window, with one-click links that act on POST only."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from appointments.models import Booking
from appointments.services.reminders import send_reminders
from portal.extensions import db
from tests.appointments.booking.builders import at, audit_actions, book, mails_to, make_office, workday
from tests.builders import csrf_from

LINK = re.compile(r"/termine/erinnerung/(T-\d{4}-\d+)/([A-Za-z0-9_-]+)/(komme|freigeben)")


def _fresh(booking_id: int) -> Booking:
    return db.session.execute(
        sa.select(Booking).where(Booking.id == booking_id).execution_options(populate_existing=True)
    ).scalar_one()


def _reminded(app):
    office = make_office(reminder_hours=24)
    start = at(workday(), 9, 0)
    held = book(office, start)
    assert send_reminders(now=start - timedelta(hours=23)) == 1
    links = {m.group(3): (m.group(1), m.group(2)) for m in LINK.finditer(mails_to("erika@example.org")[-1].body_text)}
    return held.booking, links


def test_a_reminder_is_sent_once_and_only_within_its_window(app):
    office = make_office(reminder_hours=24)
    start = at(workday(), 9, 0)
    held = book(office, start)

    assert send_reminders(now=start - timedelta(hours=25)) == 0
    assert send_reminders(now=start - timedelta(hours=23)) == 1
    assert send_reminders(now=start - timedelta(hours=22)) == 0

    mails = mails_to("erika@example.org")
    assert len(mails) == 2  # the booking and one reminder
    assert "Erinnerung" in mails[-1].subject
    assert {m.group(3) for m in LINK.finditer(mails[-1].body_text)} == {"komme", "freigeben"}
    assert _fresh(held.booking.id).reminder_sent_at is not None
    assert [e.action for e in audit_actions(held.booking.reference)][-1] == "appointment.reminder_sent"


def test_no_reminder_for_unconfirmed_started_or_cancelled_bookings(app):
    office = make_office(reminder_hours=24, confirm_within_minutes=30)
    start = at(workday(), 9, 0)
    book(office, start)  # reserved, not confirmed
    assert send_reminders(now=start - timedelta(hours=1)) == 0
    assert send_reminders(now=start + timedelta(minutes=1)) == 0


def test_a_location_without_reminders_sends_none(app):
    office = make_office(reminder_hours=0)
    start = at(workday(), 9, 0)
    book(office, start)
    assert send_reminders(now=start - timedelta(hours=1)) == 0


def test_ich_komme_changes_nothing_on_get_and_is_noted_on_post(client, app):
    booking, links = _reminded(app)
    reference, token = links["komme"]
    url = f"/termine/erinnerung/{reference}/{token}/komme"

    page = client.get(url)

    assert page.status_code == 200
    assert _fresh(booking.id).attendance_confirmed_at is None
    response = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert _fresh(booking.id).attendance_confirmed_at is not None
    assert "Sie haben bestätigt" in client.get(url).get_data(as_text=True)
    assert [e.action for e in audit_actions(reference)][-1] == "appointment.attendance_confirmed"


def test_termin_freigeben_cancels_on_post_only(client, app):
    booking, links = _reminded(app)
    reference, token = links["freigeben"]
    url = f"/termine/erinnerung/{reference}/{token}/freigeben"

    page = client.get(url)

    assert page.status_code == 200
    assert _fresh(booking.id).status == "confirmed"
    response = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert _fresh(booking.id).status == "cancelled"
    assert "Dieser Termin ist freigegeben." in client.get(url).get_data(as_text=True)
    assert [e.action for e in audit_actions(reference)][-1] == "appointment.cancelled"
    assert mails_to("erika@example.org")[-1].attachments[0].content_type == "text/calendar; method=CANCEL"


def test_wrong_or_swapped_reminder_tokens_are_not_found(client, app):
    booking, links = _reminded(app)
    reference, attend = links["komme"]
    _ref, release = links["freigeben"]
    assert client.get(f"/termine/erinnerung/{reference}/{'x' * 43}/komme").status_code == 404
    assert client.get(f"/termine/erinnerung/{reference}/{attend}/freigeben").status_code == 404
    assert client.get(f"/termine/erinnerung/{reference}/{release}/komme").status_code == 404
    assert client.get(f"/termine/erinnerung/T-1999-000001/{attend}/komme").status_code == 404
    csrf = csrf_from(client.get(f"/termine/erinnerung/{reference}/{attend}/komme").get_data(as_text=True))
    swapped = client.post(f"/termine/erinnerung/{reference}/{attend}/freigeben", data={"csrf_token": csrf})
    assert swapped.status_code == 404
    assert _fresh(booking.id).status == "confirmed"


def test_the_send_reminders_command_reports_what_it_sent(app, runner):
    office = make_office(reminder_hours=24 * 30)
    held = book(office, at(workday(), 9, 0))

    first = runner.invoke(args=["appointments", "send-reminders"])
    again = runner.invoke(args=["appointments", "send-reminders"])

    assert first.exit_code == 0, first.output
    assert f"reminded {held.booking.reference}" in first.output and "1 reminder(s) sent." in first.output
    assert "0 reminder(s) sent." in again.output
