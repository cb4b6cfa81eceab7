"""Figures per location for a date range: bookings, no-show rate, waiting time, utilisation.

Definitions (shown on the page as well):
- bookings: online and internal bookings starting in the range that were not cancelled or released;
  walk-ins and cancellations are counted separately.
- no-show rate: no-shows / (no-shows + bookings whose visitor checked in).
- waiting time: from check-in to being called, for everyone called (walk-ins included).
- utilisation: booked seat-minutes (length of the bookings counted above) / available seat-minutes (opening
  periods valid on each day × counters; public holidays and closures count as zero).
Four queries, whatever the range.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import mean, median

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from appointments.errors import BookingError
from appointments.models import Booking, BookingKind, BookingStatus, Closure, OpeningPeriod
from appointments.services.desk import day_bounds, desk_location, local_day
from portal.actors import Actor
from portal.departments.models import Location
from portal.extensions import db
from portal.timeutil import as_utc
from portal.workdays import is_public_holiday

MAX_DAYS = 366
NOT_HELD = (BookingStatus.CANCELLED, BookingStatus.RELEASED)
ATTENDED = (BookingStatus.CHECKED_IN, BookingStatus.CALLED, BookingStatus.SERVED)


@dataclass
class Figures:
    """The figures of one day, or of the whole range."""

    label: str
    bookings: int = 0
    walk_ins: int = 0
    cancelled: int = 0
    no_shows: int = 0
    attended: int = 0
    waits: list[float] = field(default_factory=list)  # minutes
    booked_minutes: float = 0
    available_minutes: float = 0

    @property
    def no_show_rate(self) -> float | None:
        seen = self.no_shows + self.attended
        return self.no_shows / seen if seen else None

    @property
    def mean_wait(self) -> float | None:
        return mean(self.waits) if self.waits else None

    @property
    def median_wait(self) -> float | None:
        return median(self.waits) if self.waits else None

    @property
    def utilisation(self) -> float | None:
        return self.booked_minutes / self.available_minutes if self.available_minutes else None

    def add(self, other: Figures) -> None:
        self.bookings += other.bookings
        self.walk_ins += other.walk_ins
        self.cancelled += other.cancelled
        self.no_shows += other.no_shows
        self.attended += other.attended
        self.waits.extend(other.waits)
        self.booked_minutes += other.booked_minutes
        self.available_minutes += other.available_minutes


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass
class Statistics:
    location: Location
    first_day: date
    last_day: date
    days: list[Figures]
    total: Figures
    bars: list[Bar]
    chart_max: int


def _minutes(start: datetime, end: datetime) -> float:
    return (as_utc(end) - as_utc(start)).total_seconds() / 60


def available_minutes(
    periods: list[OpeningPeriod], closures: list[Closure], counters: int, first_day: date, last_day: date
) -> dict[date, float]:
    """Seat-minutes a location offers per day: its opening periods × counters, zero on holidays and closures."""
    result: dict[date, float] = {}
    day = first_day
    while day <= last_day:
        closed = is_public_holiday(day) or any(c.first_day <= day <= c.last_day for c in closures)
        minutes = 0.0
        if not closed:
            for p in periods:
                if p.weekday != day.weekday():
                    continue
                if (p.valid_from and day < p.valid_from) or (p.valid_until and day > p.valid_until):
                    continue
                opens = datetime.combine(day, p.opens)
                minutes += (datetime.combine(day, p.closes) - opens).total_seconds() / 60
        result[day] = minutes * counters
        day += timedelta(days=1)
    return result


CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM, CHART_LEFT = 640, 240, 16, 40, 40


def bar_chart(days: list[Figures]) -> tuple[list[Bar], int]:
    """Bars of bookings per day, laid out for a 640 × 240 SVG; returns the bars and the y-axis maximum."""
    top = max([d.bookings for d in days] + [1])
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = (CHART_WIDTH - CHART_LEFT) / max(len(days), 1)
    bars = []
    for index, d in enumerate(days):
        height = plot_height * d.bookings / top
        bars.append(
            Bar(
                x=round(CHART_LEFT + index * slot + slot * 0.15, 1),
                y=round(CHART_TOP + plot_height - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=d.label,
                value=d.bookings,
            )
        )
    return bars, top


def location_statistics(actor: Actor, location_id: int, first_day: date, last_day: date) -> Statistics:
    location, settings = desk_location(actor, location_id)
    if last_day < first_day:
        raise BookingError("to", str(_l("Das Ende des Zeitraums liegt vor seinem Anfang.")), "range")
    if (last_day - first_day).days >= MAX_DAYS:
        raise BookingError("to", str(_l("Wählen Sie höchstens ein Jahr.")), "range")
    periods = list(db.session.scalars(sa.select(OpeningPeriod).where(OpeningPeriod.location_id == location.id)))
    closures = list(
        db.session.scalars(
            sa.select(Closure).where(
                Closure.location_id == location.id, Closure.first_day <= last_day, Closure.last_day >= first_day
            )
        )
    )
    start, _ = day_bounds(first_day)
    _, end = day_bounds(last_day)
    rows = db.session.execute(
        sa.select(
            Booking.kind,
            Booking.status,
            Booking.starts_at,
            Booking.ends_at,
            Booking.checked_in_at,
            Booking.called_at,
        ).where(Booking.location_id == location.id, Booking.starts_at >= start, Booking.starts_at < end)
    ).all()

    per_day: dict[date, Figures] = defaultdict(lambda: Figures(""))
    for row in rows:
        figures = per_day[local_day(row.starts_at)]
        if row.checked_in_at is not None and row.called_at is not None:
            figures.waits.append(_minutes(row.checked_in_at, row.called_at))
        if row.kind == BookingKind.WALK_IN:
            figures.walk_ins += 1
            continue
        if row.status in NOT_HELD:
            figures.cancelled += 1
            continue
        figures.bookings += 1
        figures.booked_minutes += _minutes(row.starts_at, row.ends_at)
        if row.status == BookingStatus.NO_SHOW:
            figures.no_shows += 1
        elif row.status in ATTENDED or row.checked_in_at is not None:
            figures.attended += 1

    available = available_minutes(periods, closures, settings.counters, first_day, last_day)
    days: list[Figures] = []
    total = Figures(str(_l("Gesamt")))
    for day, minutes in available.items():
        figures = per_day.get(day, Figures(""))
        figures.label = day.strftime("%d.%m.")
        figures.available_minutes = minutes
        days.append(figures)
        total.add(figures)
    bars, top = bar_chart(days)
    return Statistics(location, first_day, last_day, days, total, bars, top)
