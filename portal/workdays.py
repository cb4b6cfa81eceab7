"""Working days: weekends and public holidays of a German state (Saxony by default), lead times, deadlines.

Pure functions on dates: no database, no Flask. Every service that counts "Arbeitstage" uses this module, so
appointments, permits and the rest agree on which days an office is closed.

How days are counted (German administrative practice, § 31 VwVfG with §§ 187 ff. BGB):
- The day of the event (an application arriving, a notice being delivered) does not count (§ 187 (1) BGB):
  a period of n working days starts on the next day.
- A period ends when its last day ends (§ 188 (1) BGB), at 24:00 Europe/Berlin.
- A period whose end falls on a Saturday, Sunday or public holiday ends on the next working day instead
  (§ 31 (3) VwVfG, § 193 BGB). Counting working days only gives that for free.

A working day is Monday to Friday and not a public holiday of the state (`subdiv`, an ISO 3166-2 code
without the "DE-": "SN" for Saxony, where Reformationstag and Buß- und Bettag are holidays). Callers may
pass further closed days (`closed`), e.g. a location's own closures.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays

from portal.timeutil import BERLIN

DEFAULT_SUBDIV = "SN"
NO_DAYS: frozenset[date] = frozenset()
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=64)
def public_holidays(year: int, subdiv: str = DEFAULT_SUBDIV) -> Mapping[date, str]:
    """The state's public holidays of one year, day → German name (read-only; cached per year and state)."""
    found = holidays.country_holidays("DE", subdiv=subdiv, years=year, language="de")
    return MappingProxyType(dict(found.items()))


def is_public_holiday(day: date, subdiv: str = DEFAULT_SUBDIV) -> bool:
    """Whether `day` is a public holiday in the state (Saxony: Reformationstag, Buß- und Bettag, ...)."""
    return day in public_holidays(day.year, subdiv)


def holiday_name(day: date, subdiv: str = DEFAULT_SUBDIV) -> str | None:
    """The German name of the holiday on `day` ("Buß- und Bettag"), or None on any other day."""
    return public_holidays(day.year, subdiv).get(day)


def is_working_day(day: date, subdiv: str = DEFAULT_SUBDIV, closed: Collection[date] = NO_DAYS) -> bool:
    """Monday to Friday, not a public holiday and not one of the `closed` days."""
    return day.weekday() < 5 and not is_public_holiday(day, subdiv) and day not in closed


def next_working_day(day: date, subdiv: str = DEFAULT_SUBDIV, closed: Collection[date] = NO_DAYS) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day, subdiv, closed):
        day += _ONE_DAY
    return day


def add_working_days(start: date, n: int, subdiv: str = DEFAULT_SUBDIV, closed: Collection[date] = NO_DAYS) -> date:
    """The n-th working day after `start` (n > 0) or before it (n < 0); `start` itself never counts.

    n = 0 gives `start` when it is a working day, else the next working day, so the result is always a
    working day. Friday + 1 is Monday; Monday - 1 is Friday; 17 Nov 2026 + 1 is 19 Nov (Buß- und Bettag).
    """
    if n == 0:
        return next_working_day(start, subdiv, closed)
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    day = start
    left = abs(n)
    while left:
        day += step
        if is_working_day(day, subdiv, closed):
            left -= 1
    return day


def working_days_between(a: date, b: date, subdiv: str = DEFAULT_SUBDIV, closed: Collection[date] = NO_DAYS) -> int:
    """The working days after `a` up to and including `b`; negative when `b` lies before `a`.

    It undoes add_working_days: working_days_between(d, add_working_days(d, n)) == n whenever n > 0, and
    for every n when d is a working day. It is antisymmetric and adds up: between(a, b) + between(b, c) ==
    between(a, c). Example: from the day an application arrived to today, how many working days it waited.
    """
    if b < a:
        return -working_days_between(b, a, subdiv, closed)
    count = 0
    day = a + _ONE_DAY
    while day <= b:
        if is_working_day(day, subdiv, closed):
            count += 1
        day += _ONE_DAY
    return count


def _local_day(start: date | datetime) -> date:
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one (UTC) or a date")
        return start.astimezone(BERLIN).date()
    return start


def end_of_day(day: date) -> datetime:
    """The last instant of a Berlin calendar day (23:59:59.999999 local time), as aware UTC."""
    return datetime.combine(day, time.max, tzinfo=BERLIN).astimezone(UTC)


def deadline(
    start: date | datetime, working_days: int, subdiv: str = DEFAULT_SUBDIV, closed: Collection[date] = NO_DAYS
) -> datetime:
    """When a period of `working_days` working days, starting with the event at `start`, runs out.

    The event's own day (in Europe/Berlin, for an aware datetime) does not count; the period ends with the
    last instant of its last working day in Europe/Berlin, returned as aware UTC. Something done at `at`
    is in time when `at <= deadline(...)`. An application arriving on Friday 13 Nov 2026 with 5 working
    days: Mon 16, Tue 17, Thu 19 (Wed 18 is Buß- und Bettag), Fri 20, Mon 23 → ends 23 Nov 2026, 24:00.
    With 0 working days the period ends with the event's day, or the next working day if that is none.
    """
    if working_days < 0:
        raise ValueError("a period has a non-negative number of working days")
    return end_of_day(add_working_days(_local_day(start), working_days, subdiv, closed))


def earliest_start_after_lead_time(
    today: date, lead_working_days: int, subdiv: str = DEFAULT_SUBDIV, closed: Collection[date] = NO_DAYS
) -> date:
    """The first day something applied for `today` may begin when the office needs a lead time.

    The office gets `lead_working_days` whole working days after today (today does not count) before the
    day it begins; that day itself may be any calendar day, a Saturday street party included. With a lead
    time of 0 it is today. Pass today's date in Europe/Berlin (`to_berlin(utcnow()).date()`).
    """
    if lead_working_days < 0:
        raise ValueError("a lead time has a non-negative number of working days")
    if lead_working_days == 0:
        return today
    return add_working_days(today, lead_working_days, subdiv, closed) + _ONE_DAY


def latest_application_day(
    begins: date, lead_working_days: int, subdiv: str = DEFAULT_SUBDIV, closed: Collection[date] = NO_DAYS
) -> date:
    """The last day on which an application for something beginning on `begins` keeps the lead time.

    The inverse of earliest_start_after_lead_time: applying on this day or earlier, `begins` is allowed.
    The day may fall on a weekend (online applications arrive any day).
    """
    if lead_working_days < 0:
        raise ValueError("a lead time has a non-negative number of working days")
    if lead_working_days == 0:
        return begins
    return add_working_days(begins, -lead_working_days, subdiv, closed) - _ONE_DAY
