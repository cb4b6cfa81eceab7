"""Builders for the slot engine's database tests: seat claims written straight into the table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from appointments.models import SeatClaim
from portal.departments.models import Location
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def next_open_tuesday(weeks_ahead: int = 1) -> date:
    """A Tuesday at least a week ahead that is no Saxon public holiday (so it is open by default)."""
    from appointments.slots import is_public_holiday

    today = utcnow().astimezone(BERLIN).date()
    day = today + timedelta(days=7 * weeks_ahead + (1 - today.weekday()) % 7)
    while is_public_holiday(day):
        day += timedelta(days=7)
    return day


def claim(location: Location, units: Iterable[datetime], seats: Iterable[int] = (0,), **fields) -> None:
    db.session.add_all(
        SeatClaim(location_id=location.id, unit_start=unit, seat=seat, **fields) for unit in units for seat in seats
    )
    db.session.commit()
