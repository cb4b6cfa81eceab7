"""Slot computation: which start times are free, and how many seats each has left.

Pure functions on plain values: no database, no Flask. availability.py loads the rows and calls these.

The model: a location opens in intervals (several per day make breaks), start times lie on a grid of
`slot_minutes` counted from each interval's opening time, and a booking occupies one seat number for every
grid unit it covers (its duration plus the buffer, rounded up to whole units). A start is possible only when
the booking with its buffer ends inside the same interval it began in, so nobody is booked across the lunch
break. Opening hours are local time in Europe/Berlin; every instant handed out is aware UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from portal.timeutil import BERLIN
from portal.workdays import is_public_holiday  # Saxon holidays close every location; re-exported


@dataclass(frozen=True)
class Rules:
    """A location's booking rules (the columns of LocationSettings this module needs)."""

    slot_minutes: int = 10
    counters: int = 1
    held_back_seats: int = 0
    horizon_days: int = 60
    min_notice_minutes: int = 0
    buffer_minutes: int = 0


@dataclass(frozen=True)
class Period:
    """One opening interval on a weekday (0 = Monday), local time, valid in a range of days (inclusive)."""

    weekday: int
    opens: time
    closes: time
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_to(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True)
class ClosedDays:
    first_day: date
    last_day: date


class Claim(NamedTuple):
    """One seat of one unit, taken. Free again once `expires_at` or `hold_until` has passed.

    A named tuple, so database rows of these four columns can stand in for it without copying.
    """

    unit_start: datetime
    seat: int
    expires_at: datetime | None = None
    hold_until: datetime | None = None

    def holds_at(self, now: datetime) -> bool:
        return (self.expires_at is None or self.expires_at > now) and (self.hold_until is None or self.hold_until > now)


class FreeSlot(NamedTuple):
    start: datetime  # aware UTC
    seats_left: int


@dataclass(frozen=True)
class Interval:
    opens: datetime  # aware UTC
    closes: datetime


def local_days(first_day: date, last_day: date) -> Iterator[date]:
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which the Berlin calendar day begins and ends (23 or 25 hours on DST days)."""
    begins = datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC)
    ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)
    return begins, ends


def is_closed(day: date, closures: Iterable[ClosedDays]) -> bool:
    return any(closure.first_day <= day <= closure.last_day for closure in closures)


def opening_intervals(day: date, periods: Iterable[Period]) -> list[Interval]:
    """The day's opening intervals in UTC, ignoring holidays and closures (see `open_intervals`)."""
    found = []
    for period in periods:
        if not period.applies_to(day):
            continue
        # Each end converted on its own: the UTC offset is that of the wall-clock time, DST day or not.
        opens = datetime.combine(day, period.opens, tzinfo=BERLIN).astimezone(UTC)
        closes = datetime.combine(day, period.closes, tzinfo=BERLIN).astimezone(UTC)
        if opens < closes:
            found.append(Interval(opens, closes))
    found.sort(key=lambda interval: interval.opens)
    return found


def open_intervals(day: date, periods: Iterable[Period], closures: Iterable[ClosedDays]) -> list[Interval]:
    if is_public_holiday(day) or is_closed(day, closures):
        return []
    return opening_intervals(day, periods)


def units_needed(duration_minutes: int, buffer_minutes: int, slot_minutes: int) -> int:
    return max(1, math.ceil((duration_minutes + buffer_minutes) / slot_minutes))


def claim_units(start: datetime, duration_minutes: int, buffer_minutes: int, slot_minutes: int) -> list[datetime]:
    """The unit starts (UTC) a booking at `start` covers, its buffer included; one seat claim each."""
    step = timedelta(minutes=slot_minutes)
    start = start.astimezone(UTC)
    return [start + i * step for i in range(units_needed(duration_minutes, buffer_minutes, slot_minutes))]


def unit_key(instant: datetime) -> int:
    """Whole seconds since the epoch: cheaper to hash than aware datetimes, and equal across time zones."""
    return int(instant.timestamp())


def occupancy(claims: Iterable[Claim], now: datetime) -> dict[int, int]:
    """Unit start (unit_key) → bit mask of the seat numbers taken at `now`."""
    taken: dict[int, int] = {}
    for unit_start, seat, expires_at, hold_until in claims:
        if (expires_at is None or expires_at > now) and (hold_until is None or hold_until > now):
            key = unit_key(unit_start)
            taken[key] = taken.get(key, 0) | (1 << seat)
    return taken


def seats_offered(rules: Rules, include_held_back: bool = False) -> int:
    """Seat numbers 0..n-1 are bookable; the top `held_back_seats` are kept for phone and internal booking."""
    return rules.counters if include_held_back else max(0, rules.counters - rules.held_back_seats)


def seats_left(
    start: datetime,
    duration_minutes: int,
    rules: Rules,
    taken: Mapping[int, int],
    *,
    include_held_back: bool = False,
) -> int:
    """How many seat numbers are free in every unit the booking covers (it keeps one seat throughout)."""
    offered = seats_offered(rules, include_held_back)
    units = units_needed(duration_minutes, rules.buffer_minutes, rules.slot_minutes)
    return _seats_left(unit_key(start), units, rules.slot_minutes * 60, (1 << offered) - 1, offered, taken)


def _seats_left(key: int, units: int, step: int, mask: int, offered: int, taken: Mapping[int, int]) -> int:
    busy = 0
    for n in range(units):
        busy |= taken.get(key + n * step, 0)
    return offered - (busy & mask).bit_count()


def bookable_window(rules: Rules, now: datetime) -> tuple[datetime, datetime]:
    """Earliest and latest possible start (inclusive) as seen at `now`."""
    return now + timedelta(minutes=rules.min_notice_minutes), now + timedelta(days=rules.horizon_days)


def candidate_starts(
    rules: Rules,
    periods: Iterable[Period],
    closures: Iterable[ClosedDays],
    duration_minutes: int,
    first_day: date,
    last_day: date,
    now: datetime,
) -> Iterator[datetime]:
    """Every start on the grid, in order, whose booking (with buffer) fits inside one opening interval
    and which respects notice and horizon; seats are not looked at."""
    for start, _key in _candidates(rules, periods, closures, duration_minutes, first_day, last_day, now):
        yield start


def _candidates(
    rules: Rules,
    periods: Iterable[Period],
    closures: Iterable[ClosedDays],
    duration_minutes: int,
    first_day: date,
    last_day: date,
    now: datetime,
) -> Iterator[tuple[datetime, int]]:
    """candidate_starts with each start's unit_key, counted along in integers (cheaper than asking
    every datetime for its timestamp)."""
    periods = list(periods)
    closures = list(closures)
    earliest, latest = bookable_window(rules, now)
    first_day = max(first_day, earliest.astimezone(BERLIN).date())
    last_day = min(last_day, latest.astimezone(BERLIN).date())
    step = timedelta(minutes=rules.slot_minutes)
    step_seconds = rules.slot_minutes * 60
    length = timedelta(minutes=duration_minutes + rules.buffer_minutes)
    for day in local_days(first_day, last_day):
        for interval in open_intervals(day, periods, closures):
            start = interval.opens
            key = unit_key(start)
            while start + length <= interval.closes:
                if start > latest:
                    return
                if start >= earliest:
                    yield start, key
                start += step
                key += step_seconds


def free_slots(
    rules: Rules,
    periods: Iterable[Period],
    closures: Iterable[ClosedDays],
    claims: Iterable[Claim],
    duration_minutes: int,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    include_held_back: bool = False,
) -> list[FreeSlot]:
    """The free start times between two local days (inclusive), sorted, with the seats each has left."""
    taken = occupancy(claims, now)
    return free_slots_in(
        rules, periods, closures, taken, duration_minutes, first_day, last_day, now, include_held_back=include_held_back
    )


def free_slots_in(
    rules: Rules,
    periods: Iterable[Period],
    closures: Iterable[ClosedDays],
    taken: Mapping[int, int],
    duration_minutes: int,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    include_held_back: bool = False,
) -> list[FreeSlot]:
    """free_slots for an occupancy already worked out (unit_key → bit mask of seats taken)."""
    if duration_minutes <= 0:
        raise ValueError("duration must be positive")
    offered = seats_offered(rules, include_held_back)
    mask = (1 << offered) - 1
    units = units_needed(duration_minutes, rules.buffer_minutes, rules.slot_minutes)
    step = rules.slot_minutes * 60
    found = []
    offsets = [n * step for n in range(units)]
    get = taken.get
    at = datetime.fromtimestamp
    for key in _candidate_keys(rules, periods, closures, duration_minutes, first_day, last_day, now):
        # _seats_left inlined: this loop runs for every start of a month.
        busy = 0
        for offset in offsets:
            busy |= get(key + offset, 0)
        left = offered - (busy & mask).bit_count()
        if left > 0:
            found.append(FreeSlot(at(key, UTC), left))
    return found


def _candidate_keys(
    rules: Rules,
    periods: Iterable[Period],
    closures: Iterable[ClosedDays],
    duration_minutes: int,
    first_day: date,
    last_day: date,
    now: datetime,
) -> Iterator[int]:
    """_candidates as unit keys only, walked in integers: a datetime is made only for the starts that are free."""
    periods = list(periods)
    closures = list(closures)
    earliest, latest = bookable_window(rules, now)
    first_day = max(first_day, earliest.astimezone(BERLIN).date())
    last_day = min(last_day, latest.astimezone(BERLIN).date())
    low, high = earliest.timestamp(), latest.timestamp()
    step = rules.slot_minutes * 60
    length = (duration_minutes + rules.buffer_minutes) * 60
    for day in local_days(first_day, last_day):
        for interval in open_intervals(day, periods, closures):
            key = unit_key(interval.opens)
            last_start = unit_key(interval.closes) - length
            while key <= last_start:
                if key > high:
                    return
                if key >= low:
                    yield key
                key += step


def refusal(
    rules: Rules,
    periods: Iterable[Period],
    closures: Iterable[ClosedDays],
    duration_minutes: int,
    start: datetime,
    now: datetime,
) -> str | None:
    """Why a booking cannot start at `start` (seats aside), as a code, or None when it can.

    Codes, most fundamental first: past, notice, horizon, holiday, closed, outside_hours, off_grid.
    """
    if start.tzinfo is None:
        raise ValueError("naive datetime given")
    start = start.astimezone(UTC)
    earliest, latest = bookable_window(rules, now)
    if start < now:
        return "past"
    if start < earliest:
        return "notice"
    if start > latest:
        return "horizon"
    day = start.astimezone(BERLIN).date()
    if is_public_holiday(day):
        return "holiday"
    if is_closed(day, closures):
        return "closed"
    end = start + timedelta(minutes=duration_minutes + rules.buffer_minutes)
    for interval in opening_intervals(day, periods):
        if interval.opens <= start and end <= interval.closes:
            offset = (start - interval.opens).total_seconds()
            return None if offset % (rules.slot_minutes * 60) == 0 else "off_grid"
    return "outside_hours"
