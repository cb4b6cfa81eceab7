"""Bad input and abuse rules: a field-level error, and nothing held (no booking, no claim, no mail)."""

from __future__ import annotations

import pytest

from appointments.errors import BookingError
from appointments.services import captcha
from appointments.services.booking import hold_booking
from portal.actors import ANONYMOUS
from portal.timeutil import utcnow
from tests.appointments.booking.builders import at, book, held_rows, make_office, workday


def _refused(office, start, **kwargs) -> BookingError:
    with pytest.raises(BookingError) as refused:
        book(office, start, **kwargs)
    assert held_rows() == (0, 0, 0)
    return refused.value


def test_a_malformed_email_is_refused(app):
    error = _refused(make_office(), at(workday(), 9, 0), email="erika@@example")
    assert (error.field, error.code) == ("email", "invalid")


def test_a_missing_name_is_refused(app):
    error = _refused(make_office(), at(workday(), 9, 0), name="   ")
    assert (error.field, error.code) == ("name", "required")


def test_an_implausible_phone_number_is_refused(app):
    error = _refused(make_office(), at(workday(), 9, 0), phone="call me maybe")
    assert error.field == "phone"


def test_a_slot_in_the_past_is_refused(app):
    error = _refused(make_office(), at(workday(-7), 9, 0))
    assert (error.field, error.code) == ("start", "past")


def test_a_time_outside_opening_hours_is_refused(app):
    office = make_office()
    error = _refused(office, at(workday(), 12, 0))  # the lunch break
    assert (error.field, error.code) == ("start", "outside_hours")
    error = _refused(office, at(workday(), 6, 0))
    assert error.field == "start"


def test_an_unknown_service_is_refused(app):
    office = make_office()
    error = _refused(office, at(workday(), 9, 0), items=[(office.service.id + 99, 1)])
    assert (error.field, error.code) == ("services", "not_offered")


def test_an_unknown_location_is_refused(app):
    office = make_office()
    with pytest.raises(BookingError) as refused:
        hold_booking(
            ANONYMOUS,
            location_id=office.location.id + 99,
            items=[(office.service.id, 1)],
            start=at(workday(), 9, 0),
            name="Erika",
            email="erika@example.org",
        )
    assert refused.value.field == "location"
    assert held_rows() == (0, 0, 0)


def test_too_many_open_bookings_for_one_email_are_refused(app):
    office = make_office(counters=3, max_open_per_email=2)
    day = workday()
    book(office, at(day, 9, 0))
    book(office, at(day, 10, 0), email="Erika@Example.org")  # the same address, differently written
    before = held_rows()

    with pytest.raises(BookingError) as refused:
        book(office, at(day, 11, 0))

    assert (refused.value.field, refused.value.code) == ("email", "too_many_open")
    assert held_rows() == before
    assert book(office, at(day, 11, 0), email="max@example.org")


def test_internal_booking_needs_staff(app):
    office = make_office(counters=2, held_back_seats=1)
    error = _refused(office, at(workday(), 9, 0), kind="internal")
    assert error.field == "kind"


def test_a_location_asking_for_the_captcha_refuses_a_booking_without_it(app):
    office = make_office(captcha_required=True)
    start = at(workday(), 9, 0)
    assert _refused(office, start).code == "captcha_missing"
    assert _refused(office, start, captcha="bm9uc2Vuc2U=").code == "captcha_invalid"


def test_a_solved_captcha_books_once_and_cannot_be_replayed(app):
    office = make_office(counters=2, captcha_required=True)
    start = at(workday(), 9, 0)
    solution = captcha.solve(captcha.create_challenge())

    assert book(office, start, captcha=solution).booking.status == "confirmed"
    with pytest.raises(BookingError) as replay:
        book(office, start, email="max@example.org", captcha=solution)
    assert replay.value.field == "captcha"


def test_a_booking_too_far_ahead_is_refused(app):
    office = make_office(horizon_days=10)
    error = _refused(office, at(workday(30), 9, 0))
    assert (error.field, error.code) == ("start", "horizon")


def test_bookings_that_ended_do_not_count_as_open(app):
    office = make_office(counters=3, max_open_per_email=1)
    now = utcnow()
    day = workday()
    book(office, at(day, 9, 0), now=now)
    assert book(office, at(day, 10, 0), now=at(day, 9, 30))
