"""Booking mails speak the citizen's language, dates included."""

from __future__ import annotations

from babel.dates import format_date

from tests.appointments.booking.builders import at, book, mails_to, make_office, workday


def test_an_english_booking_mail_has_english_dates_and_a_german_one_german_dates(app):
    office = make_office()
    day = workday()
    book(office, at(day, 9, 0), email="erika@example.org", language="de")
    book(office, at(day, 10, 0), email="emma@example.org", language="en")

    (german,) = mails_to("erika@example.org")
    (english,) = mails_to("emma@example.org")

    assert format_date(day, "EEEE, d. MMMM y", locale="de") in german.body_text
    assert format_date(day, "EEEE d MMMM y", locale="en") in english.body_text
    assert "Uhr" not in english.body_text
