"""The calendar files a citizen receives satisfy RFC 5545/5546, parsed back with icalendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from appointments.ics import booking_calendar, feed_calendar
from appointments.models import BookingStatus
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import BERLIN
from tests.appointments.builders import make_bookable_location, make_catalogue_service
from tests.appointments.calendar.builders import make_booking
from tests.builders import make_department


def _next_weekday_at(hour: int, minute: int = 0, days_ahead: int = 7) -> datetime:
    day = datetime.now(BERLIN).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def booking(app):
    department = make_department()
    department.email = "buergeramt@stadt.example"
    db.session.commit()
    location = make_bookable_location(department=department)
    passport = make_catalogue_service(department, "Reisepass beantragen")
    id_card = make_catalogue_service(department, "Personalausweis beantragen")
    return make_booking(location, [(id_card, 1), (passport, 2)], _next_weekday_at(9, 30), reference="T-2026-000123")


def _event(data: bytes):
    calendar = Calendar.from_ical(data)
    assert len(calendar.events) == 1
    return calendar, calendar.events[0]


def test_confirmation_file_is_a_request_with_the_bookings_uid_and_berlin_times(booking):
    calendar, event = _event(booking_calendar(booking, "REQUEST", manage_url="https://stadt.example/termine/x"))

    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == booking.uid
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.start.tzinfo is not None
    assert str(event.start.tzinfo) == "Europe/Berlin"
    assert event.start == _next_weekday_at(9, 30)
    assert event.end - event.start == timedelta(minutes=45)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert "DTSTAMP" in event


def test_confirmation_file_names_services_place_people_and_an_alarm(booking):
    _, event = _event(booking_calendar(booking, "REQUEST", manage_url="https://stadt.example/termine/x"))

    assert str(event["SUMMARY"]) == "Termin: Personalausweis beantragen, 2 × Reisepass beantragen"
    assert str(event["LOCATION"]) == "Bürgerbüro Mitte, Rathausplatz 1, 01067 Musterstadt"
    assert event["GEO"].latitude == pytest.approx(51.05)
    assert event["GEO"].longitude == pytest.approx(13.74)
    assert str(event["ORGANIZER"]) == "mailto:buergeramt@stadt.example"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:erika@example.org"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert "T-2026-000123" in str(event["DESCRIPTION"])
    assert "https://stadt.example/termine/x" in str(event["DESCRIPTION"])
    alarms = event.walk("VALARM")
    assert len(alarms) == 1
    assert alarms[0]["ACTION"] == "DISPLAY"
    assert alarms[0]["TRIGGER"].dt == -timedelta(days=1)


def test_organizer_falls_back_to_the_portal_sender_without_a_department_address(booking):
    for department in db.session.scalars(db.select(Department)):
        department.email = None
    db.session.commit()

    _, event = _event(booking_calendar(booking, "REQUEST"))

    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert "@" in str(event["ORGANIZER"])
    assert "buergeramt@stadt.example" not in str(event["ORGANIZER"])


def test_reserved_booking_is_tentative(booking):
    booking.status = BookingStatus.RESERVED
    db.session.commit()

    _, event = _event(booking_calendar(booking, "REQUEST"))

    assert event["STATUS"] == "TENTATIVE"


def test_reschedule_keeps_the_uid_and_raises_the_sequence(booking):
    _, first = _event(booking_calendar(booking, "REQUEST"))
    booking.starts_at = booking.starts_at + timedelta(days=1)
    booking.ends_at = booking.ends_at + timedelta(days=1)
    booking.sequence += 1
    db.session.commit()

    calendar, moved = _event(booking_calendar(booking, "REQUEST"))

    assert calendar["METHOD"] == "REQUEST"
    assert str(moved["UID"]) == str(first["UID"])
    assert moved["SEQUENCE"] > first["SEQUENCE"]
    assert moved.start == first.start + timedelta(days=1)


def test_cancellation_file_is_a_cancel_with_the_same_uid_and_no_alarm(booking):
    booking.status = BookingStatus.CANCELLED
    booking.sequence = 2
    db.session.commit()

    calendar, event = _event(booking_calendar(booking, "cancel"))

    assert calendar["METHOD"] == "CANCEL"
    assert str(event["UID"]) == booking.uid
    assert event["SEQUENCE"] == 2
    assert event["STATUS"] == "CANCELLED"
    assert event.walk("VALARM") == []


def test_appointment_tomorrow_morning_is_reminded_two_hours_ahead(booking):
    start = datetime.now(BERLIN) + timedelta(hours=20)
    booking.starts_at, booking.ends_at = start, start + timedelta(minutes=15)
    db.session.commit()

    _, event = _event(booking_calendar(booking, "REQUEST"))

    assert event.walk("VALARM")[0]["TRIGGER"].dt == -timedelta(hours=2)


def test_unknown_method_is_refused(booking):
    with pytest.raises(ValueError):
        booking_calendar(booking, "PUBLISH")


def test_feed_publishes_without_names_unless_asked(booking):
    plain = Calendar.from_ical(feed_calendar(booking.location_id, [booking], show_names=False))
    named = Calendar.from_ical(feed_calendar(booking.location_id, [booking], show_names=True))

    assert plain["METHOD"] == "PUBLISH"
    assert plain["REFRESH-INTERVAL"].dt == timedelta(minutes=15)
    assert plain["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert plain["X-PUBLISHED-TTL"] == "PT15M"
    event = plain.events[0]
    assert str(event["UID"]) == booking.uid
    assert str(event["SUMMARY"]) == "Termin T-2026-000123: Personalausweis beantragen, 2 × Reisepass beantragen"
    assert "Erika" not in plain.to_ical().decode()
    assert "erika@example.org" not in plain.to_ical().decode()
    assert "Erika Mustermann" in str(named.events[0]["SUMMARY"])
    assert "erika@example.org" not in named.to_ical().decode()
    assert [tz["TZID"] for tz in plain.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_request_file_has_no_calendar_uid_and_a_full_berlin_timezone(booking):
    calendar, _ = _event(booking_calendar(booking, "REQUEST"))

    assert "UID" not in calendar
    [timezone] = calendar.walk("VTIMEZONE")
    assert {component.name for component in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_summer_appointment_keeps_its_local_time_across_the_clock_change(booking):
    summer = datetime(2027, 6, 15, 9, 0, tzinfo=BERLIN)  # a Tuesday in summer time
    booking.starts_at, booking.ends_at = summer, summer + timedelta(minutes=15)
    db.session.commit()

    _, event = _event(booking_calendar(booking, "REQUEST"))

    assert event.start.hour == 9
    assert event.start.utcoffset() == timedelta(hours=2)


def test_feed_calendar_keeps_its_identity_between_fetches(booking):
    first = Calendar.from_ical(feed_calendar(booking.location_id, [booking], show_names=False))
    second = Calendar.from_ical(feed_calendar(booking.location_id, [], show_names=False))

    assert str(first["UID"]) == str(second["UID"])
    assert second.events == []
