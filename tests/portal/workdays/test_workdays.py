"""Working days in Saxony on real calendar dates: weekends, Reformationstag, Buß- und Bettag, Easter, Christmas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.workdays import (
    add_working_days,
    deadline,
    earliest_start_after_lead_time,
    holiday_name,
    is_public_holiday,
    is_working_day,
    latest_application_day,
    working_days_between,
)

BUSS_UND_BETTAG_2026 = date(2026, 11, 18)  # a Wednesday
REFORMATIONSTAG_2025 = date(2025, 10, 31)  # a Friday


def test_saxon_holidays_that_other_states_do_not_have_are_closed():
    assert is_public_holiday(REFORMATIONSTAG_2025)
    assert is_public_holiday(BUSS_UND_BETTAG_2026)
    assert not is_working_day(BUSS_UND_BETTAG_2026)
    assert holiday_name(BUSS_UND_BETTAG_2026) == "Buß- und Bettag"
    assert holiday_name(REFORMATIONSTAG_2025) == "Reformationstag"
    # The state is a parameter: Bavaria works on both days, Berlin on Buß- und Bettag.
    assert is_working_day(REFORMATIONSTAG_2025, subdiv="BY")
    assert is_working_day(BUSS_UND_BETTAG_2026, subdiv="BE")


def test_an_ordinary_weekday_is_a_working_day_and_the_weekend_is_not():
    assert is_working_day(date(2026, 11, 17))  # Tuesday
    assert not is_working_day(date(2026, 11, 21))  # Saturday
    assert not is_working_day(date(2026, 11, 22))  # Sunday
    assert holiday_name(date(2026, 11, 17)) is None


def test_extra_closed_days_are_not_working_days():
    closed = {date(2026, 11, 19)}
    assert not is_working_day(date(2026, 11, 19), closed=closed)
    # Tuesday + 1: Wednesday is Buß- und Bettag, Thursday closed, so Friday.
    assert add_working_days(date(2026, 11, 17), 1, closed=closed) == date(2026, 11, 20)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday + 1 is Monday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # Saturday + 1 is Monday
        (date(2026, 11, 17), 1, date(2026, 11, 19)),  # over Buß- und Bettag
        (date(2025, 10, 30), 1, date(2025, 11, 3)),  # over Reformationstag and the weekend
        (date(2027, 3, 25), 1, date(2027, 3, 30)),  # Maundy Thursday + 1: over Good Friday to Easter Monday
        (date(2027, 3, 25), 3, date(2027, 4, 1)),
        (date(2026, 12, 23), 3, date(2026, 12, 29)),  # 24 Dec counts, Christmas and the weekend do not
        (date(2026, 12, 30), 2, date(2027, 1, 4)),  # 31 Dec, then over New Year into the next year
        (date(2026, 11, 23), -1, date(2026, 11, 20)),  # Monday - 1 is Friday
        (date(2026, 11, 19), -1, date(2026, 11, 17)),  # back over Buß- und Bettag
        (date(2027, 1, 4), -2, date(2026, 12, 30)),  # back over New Year and the weekend
        (date(2027, 3, 30), -1, date(2027, 3, 25)),  # back over Easter
        (date(2026, 11, 17), 0, date(2026, 11, 17)),  # n = 0 on a working day: that day
        (BUSS_UND_BETTAG_2026, 0, date(2026, 11, 19)),  # n = 0 on a holiday: the next working day
        (date(2026, 10, 31), 0, date(2026, 11, 2)),  # Reformationstag 2026 is a Saturday
    ],
)
def test_add_working_days_skips_weekends_and_saxon_holidays(start, n, expected):
    assert add_working_days(start, n) == expected


def test_working_days_between_counts_the_days_after_the_first_up_to_the_last():
    assert working_days_between(date(2026, 11, 16), date(2026, 11, 23)) == 4  # Tue, Thu, Fri, Mon
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 16)) == -4
    assert working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 6  # 24, 28-31 Dec and 4 Jan; not 1 Jan
    assert working_days_between(date(2026, 11, 16), date(2026, 11, 16)) == 0


def test_a_deadline_ends_at_midnight_berlin_of_its_last_working_day():
    # Arrived Friday 13 Nov 2026, 5 working days: Mon 16, Tue 17, Thu 19 (not Buß- und Bettag), Fri 20, Mon 23.
    ends = deadline(date(2026, 11, 13), 5)
    assert ends == datetime(2026, 11, 23, 22, 59, 59, 999999, tzinfo=UTC)  # 23:59:59.999999 CET
    assert ends.tzinfo is UTC
    # In summer time the day ends an hour earlier in UTC: Maundy Thursday 2027 + 1 is Easter Tuesday.
    assert deadline(date(2027, 3, 25), 1) == datetime(2027, 3, 30, 21, 59, 59, 999999, tzinfo=UTC)


def test_the_day_of_the_event_is_the_berlin_day_of_an_instant():
    thursday_late = datetime(2026, 11, 12, 22, 30, tzinfo=UTC)  # Thursday 23:30 in Berlin
    friday_early = datetime(2026, 11, 12, 23, 30, tzinfo=UTC)  # already Friday 00:30 in Berlin
    assert deadline(thursday_late, 1) == deadline(date(2026, 11, 13), 0)
    assert deadline(friday_early, 1) == deadline(date(2026, 11, 16), 0)


def test_a_deadline_of_no_days_on_a_holiday_moves_to_the_next_working_day():
    assert deadline(BUSS_UND_BETTAG_2026, 0) == datetime(2026, 11, 19, 22, 59, 59, 999999, tzinfo=UTC)


def test_a_deadline_refuses_a_naive_datetime_and_negative_periods():
    with pytest.raises(ValueError, match="naive"):
        deadline(datetime(2026, 11, 13, 10, 0), 5)
    with pytest.raises(ValueError):
        deadline(date(2026, 11, 13), -1)


def test_a_lead_time_gives_the_office_whole_working_days_before_the_start():
    monday = date(2026, 11, 16)
    # Tue 17, Thu 19, Fri 20 are the three working days; a Saturday street party may start on the 21st.
    assert earliest_start_after_lead_time(monday, 3) == date(2026, 11, 21)
    # Ten working days: 17, 19, 20, 23, 24, 25, 26, 27, 30 Nov, 1 Dec.
    assert earliest_start_after_lead_time(monday, 10) == date(2026, 12, 2)
    assert earliest_start_after_lead_time(monday, 0) == monday
    assert latest_application_day(date(2026, 11, 21), 3) == monday
    assert latest_application_day(date(2026, 12, 2), 10) == monday


# Property tests over sixteen years of real holidays.
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
counts = st.integers(min_value=-60, max_value=60)


@settings(max_examples=200, deadline=None)
@given(days, counts)
def test_add_working_days_always_lands_on_a_working_day(start, n):
    assert is_working_day(add_working_days(start, n))


@settings(max_examples=200, deadline=None)
@given(days, counts)
def test_working_days_between_undoes_add_working_days(start, n):
    if is_working_day(start) or n > 0:
        assert working_days_between(start, add_working_days(start, n)) == n


@settings(max_examples=100, deadline=None)
@given(days, days, days)
def test_working_days_between_adds_up_and_is_antisymmetric(a, b, c):
    assert working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)
    assert working_days_between(a, b) == -working_days_between(b, a)


@settings(max_examples=200, deadline=None)
@given(days, st.integers(min_value=0, max_value=40), st.integers(min_value=-10, max_value=80))
def test_applying_by_the_latest_day_is_exactly_what_allows_a_start(applied, lead, offset):
    begins = applied + timedelta(days=offset)
    allowed = begins >= earliest_start_after_lead_time(applied, lead)
    assert allowed == (applied <= latest_application_day(begins, lead))
