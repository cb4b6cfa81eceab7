"""Holding, confirming, cancelling, moving and releasing bookings (service level)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from appointments.errors import BookingError, NotFound, SlotTaken
from appointments.models import Booking, SeatClaim
from appointments.services import events
from appointments.services.booking import (
    cancel_booking,
    confirm_booking,
    find_booking,
    release_expired,
    reschedule_booking,
)
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import utcnow
from tests.appointments.booking.builders import at, audit_actions, book, held_rows, mails_to, make_office, workday
from tests.builders import make_user


def _calendar(message) -> Calendar:
    (attachment,) = [a for a in message.attachments if a.filename == "termin.ics"]
    return Calendar.from_ical(attachment.data)


def test_booking_mail_carries_the_check_in_code_for_the_desk(app):
    office = make_office()
    held = book(office, at(workday(), 9, 0))
    (mail,) = mails_to("erika@example.org")
    (code,) = [a for a in mail.attachments if a.filename == "check-in-code.png"]
    assert code.content_type == "image/png"
    assert code.data.startswith(b"\x89PNG\r\n")
    # The code encodes the bare reference, which is what the desk's check-in field expects.
    assert held.booking.reference and len(code.data) > 100


def test_booking_holds_the_seat_and_mails_the_citizen_a_calendar_file(app):
    office = make_office()
    user = make_user("erika@example.org")
    start = at(workday(), 9, 0)

    held = book(office, start, user_id=user.id)

    booking = held.booking
    assert booking.status == "confirmed"
    assert booking.reference == f"T-{utcnow().year}-{booking.id:06d}"
    assert booking.uid.endswith("@stadtportal")
    assert booking.manage_token_hash != held.manage_token and len(held.manage_token) >= 43
    assert booking.ends_at - booking.starts_at == timedelta(minutes=15)
    (mail,) = mails_to("erika@example.org")
    assert booking.reference in mail.subject
    assert f"/termine/verwalten/{booking.reference}/{held.manage_token}" in mail.body_text
    assert "/termine/bestaetigen/" not in mail.body_text
    assert mail.attachments[0].content_type == "text/calendar; method=REQUEST"
    calendar = _calendar(mail)
    assert calendar["METHOD"] == "REQUEST"
    assert str(calendar.events[0]["UID"]) == booking.uid
    (event,) = audit_actions(booking.reference)
    assert event.action == "appointment.booked"
    assert event.subject_user_id == user.id
    # 15 minutes on a 10-minute grid: two units, one seat.
    assert db.session.execute(sa.select(sa.func.count(SeatClaim.id))).scalar_one() == 2


def test_a_second_booking_of_a_taken_slot_is_refused_with_nearest_times(app):
    office = make_office(counters=1)
    start = at(workday(), 9, 0)
    book(office, start)

    with pytest.raises(SlotTaken) as refused:
        book(office, start, email="max@example.org")

    assert refused.value.nearest and start not in refused.value.nearest
    assert held_rows()[0] == 1


def test_a_location_with_two_counters_takes_two_bookings_per_slot(app):
    office = make_office(counters=2)
    start = at(workday(), 9, 0)
    book(office, start, email="a@example.org")
    book(office, start, email="b@example.org")
    with pytest.raises(SlotTaken):
        book(office, start, email="c@example.org")


def test_held_back_seats_are_not_offered_online(app):
    office = make_office(counters=2, held_back_seats=1)
    start = at(workday(), 9, 0)
    book(office, start, email="a@example.org")
    with pytest.raises(SlotTaken):
        book(office, start, email="b@example.org")


def test_booking_that_needs_confirmation_is_reserved_until_confirmed_by_its_link(app):
    office = make_office(confirm_within_minutes=30)
    held = book(office, at(workday(), 9, 0))
    booking = held.booking
    assert booking.status == "reserved"
    assert booking.confirm_by is not None
    (mail,) = mails_to("erika@example.org")
    assert f"/termine/bestaetigen/{booking.reference}/{held.manage_token}" in mail.body_text
    assert "bestätigen" in mail.subject

    confirmed = confirm_booking(booking.reference, held.manage_token)

    assert confirmed.status == "confirmed" and confirmed.sequence == 1
    assert db.session.execute(sa.select(SeatClaim.expires_at).distinct()).scalars().all() == [None]
    assert [e.action for e in audit_actions(booking.reference)] == ["appointment.booked", "appointment.confirmed"]
    assert confirm_booking(booking.reference, held.manage_token).sequence == 1  # a second click changes nothing
    assert len(mails_to("erika@example.org")) == 2


def test_a_wrong_token_finds_no_booking(app):
    office = make_office()
    held = book(office, at(workday(), 9, 0))
    with pytest.raises(NotFound):
        find_booking(held.booking.reference, "x" * 43)
    with pytest.raises(NotFound):
        find_booking("T-1999-000001", held.manage_token)
    with pytest.raises(NotFound):
        confirm_booking(held.booking.reference, "")


def test_cancelling_frees_the_seat_and_mails_a_cancel_file(app):
    office = make_office(counters=1)
    start = at(workday(), 9, 0)
    held = book(office, start)
    freed = []
    events.SEATS_FREED.append(lambda location_id, units: freed.append((location_id, units)))
    try:
        cancelled = cancel_booking(ANONYMOUS, held.booking)
    finally:
        events.SEATS_FREED.pop()

    assert cancelled.status == "cancelled" and cancelled.sequence == 1
    assert freed == [(office.location.id, [start.astimezone(utcnow().tzinfo), start + timedelta(minutes=10)])]
    cancel_mail = mails_to("erika@example.org")[-1]
    assert cancel_mail.attachments[0].content_type == "text/calendar; method=CANCEL"
    calendar = _calendar(cancel_mail)
    assert calendar["METHOD"] == "CANCEL"
    assert str(calendar.events[0]["UID"]) == held.booking.uid
    assert int(calendar.events[0]["SEQUENCE"]) == 1
    assert book(office, start, email="max@example.org").booking.status == "confirmed"
    with pytest.raises(BookingError) as again:
        cancel_booking(ANONYMOUS, cancelled)
    assert again.value.code == "not_active"


def test_a_cancelled_seat_stays_held_during_the_cool_down(app):
    office = make_office(counters=1, cancel_cooldown_minutes=30)
    start = at(workday(), 9, 0)
    now = utcnow()
    cancel_booking(ANONYMOUS, book(office, start, now=now).booking, now=now)

    with pytest.raises(SlotTaken):
        book(office, start, email="max@example.org", now=now + timedelta(minutes=5))
    later = book(office, start, email="max@example.org", now=now + timedelta(minutes=31))

    assert later.booking.status == "confirmed"
    assert (
        db.session.execute(sa.select(sa.func.count(SeatClaim.id)).where(SeatClaim.booking_id.is_(None))).scalar_one()
        == 0
    )


def test_rescheduling_moves_the_booking_raises_sequence_and_frees_the_old_time(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))

    moved = reschedule_booking(ANONYMOUS, held.booking, at(day, 9, 10))  # overlaps its own old units

    assert moved.starts_at == at(day, 9, 10) and moved.sequence == 1
    assert moved.uid == held.booking.uid
    mail = mails_to("erika@example.org")[-1]
    calendar = _calendar(mail)
    assert calendar["METHOD"] == "REQUEST"
    assert int(calendar.events[0]["SEQUENCE"]) == 1
    assert str(calendar.events[0]["UID"]) == held.booking.uid
    assert "verschoben" in mail.subject
    assert book(office, at(day, 9, 30), email="max@example.org")
    with pytest.raises(SlotTaken):
        book(office, at(day, 9, 10), email="max@example.org")
    moved_again = reschedule_booking(ANONYMOUS, moved, at(day, 10, 0))
    assert moved_again.sequence == 2
    assert [e.action for e in audit_actions(held.booking.reference)].count("appointment.rescheduled") == 2


def test_rescheduling_to_a_taken_time_keeps_the_old_booking(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    book(office, at(day, 11, 0), email="max@example.org")

    with pytest.raises(SlotTaken):
        reschedule_booking(ANONYMOUS, held.booking, at(day, 11, 0))

    booking = db.session.get(Booking, held.booking.id)
    assert booking.starts_at == at(day, 9, 0) and booking.sequence == 0
    with pytest.raises(SlotTaken):
        book(office, at(day, 9, 0), email="third@example.org")


def test_rescheduling_after_the_start_is_refused(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9, 0))
    with pytest.raises(BookingError) as refused:
        reschedule_booking(ANONYMOUS, held.booking, at(day, 10, 0), now=at(day, 9, 5))
    assert refused.value.code == "started"


def test_an_unconfirmed_booking_is_released_after_the_deadline(app, runner):
    office = make_office(counters=1, confirm_within_minutes=30)
    start = at(workday(), 9, 0)
    held = book(office, start)
    assert release_expired() == 0

    result = runner.invoke(args=["appointments", "release-expired"], catch_exceptions=False)
    assert "0 booking(s) released." in result.output
    assert release_expired(utcnow() + timedelta(minutes=31)) == 1

    booking = db.session.get(Booking, held.booking.id)
    assert booking.status == "released" and booking.sequence == 1
    assert "appointment.released" in [e.action for e in audit_actions(booking.reference)]
    release_mail = mails_to("erika@example.org")[-1]
    assert _calendar(release_mail)["METHOD"] == "CANCEL"
    assert book(office, start, email="max@example.org").booking.status == "reserved"
    with pytest.raises(BookingError) as late:
        confirm_booking(booking.reference, held.manage_token)
    assert late.value.code == "not_confirmable"


def test_the_release_command_reports_what_it_released(app, runner, monkeypatch):
    office = make_office(confirm_within_minutes=30)
    past = utcnow() - timedelta(minutes=40)
    held = book(office, at(workday(), 9, 0), now=past)

    result = runner.invoke(args=["appointments", "release-expired"], catch_exceptions=False)

    assert f"released {held.booking.reference}" in result.output
    assert "1 booking(s) released." in result.output


def test_a_stale_hold_is_released_when_someone_else_books_the_seat(app):
    office = make_office(counters=1, confirm_within_minutes=30)
    start = at(workday(), 9, 0)
    now = utcnow()
    stale = book(office, start, now=now)

    fresh = book(office, start, email="max@example.org", now=now + timedelta(minutes=31))

    assert fresh.booking.status == "reserved"
    assert db.session.get(Booking, stale.booking.id).status == "released"
    assert "appointment.released" in [e.action for e in audit_actions(stale.booking.reference)]


def test_confirming_after_the_deadline_releases_the_booking(app):
    office = make_office(confirm_within_minutes=30)
    now = utcnow()
    held = book(office, at(workday(), 9, 0), now=now - timedelta(minutes=31))
    with pytest.raises(BookingError) as late:
        confirm_booking(held.booking.reference, held.manage_token, now=now)
    assert late.value.code == "expired"
    assert db.session.get(Booking, held.booking.id).status == "released"


def test_staff_may_book_a_held_back_seat_for_a_caller(app):
    from portal.actors import Actor
    from portal.departments.models import Location

    office = make_office(counters=2, held_back_seats=1)
    start = at(workday(), 9, 0)
    book(office, start)
    with pytest.raises(SlotTaken):
        book(office, start, email="max@example.org")
    location = db.session.get(Location, office.location.id)
    clerk = make_user("clerk@stadt.example", department=location.department, department_role="clerk")

    held = book(office, start, email=None, phone="0351 123456", kind="internal", actor=Actor.for_user(clerk))

    assert held.booking.kind == "internal" and held.booking.status == "confirmed"
    assert mails_to("clerk@stadt.example") == []


def test_an_expired_waitlist_offer_is_released_as_such(app):
    office = make_office(counters=1)
    start = at(workday(), 9, 0)
    held = book(office, start)
    booking = held.booking
    booking.status = "offered"
    booking.confirm_by = utcnow() - timedelta(minutes=1)
    db.session.execute(sa.update(SeatClaim).values(expires_at=booking.confirm_by))
    db.session.commit()

    assert release_expired() == 1

    (event,) = [e for e in audit_actions(booking.reference) if e.action == "appointment.released"]
    assert "offer_expired" in event.details
    assert db.session.execute(sa.select(sa.func.count(SeatClaim.id))).scalar_one() == 0


def test_the_citizen_sees_their_booking_events_in_their_account_log(app, client, auth):
    office = make_office(confirm_within_minutes=30)
    user = make_user("erika@example.org")
    held = book(office, at(workday(), 9, 0), user_id=user.id)
    confirm_booking(held.booking.reference, held.manage_token)
    cancel_booking(ANONYMOUS, held.booking)

    auth.login("erika@example.org")
    page = client.get("/konto/protokoll").get_data(as_text=True)

    for text in ("Termin gebucht", "Termin bestätigt", "Termin abgesagt"):
        assert text in page
