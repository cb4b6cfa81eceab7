"""Free times: loads a location's rules, hours, closures and seat claims and asks appointments.slots.

Every function issues a fixed number of SQL statements whatever the number of bookings: one per kind of row
(offered services, settings, opening periods, closures, seat claims in the range), selected as plain tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from appointments import slots
from appointments.errors import BookingError
from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod, SeatClaim
from appointments.slots import FreeSlot
from portal.departments.models import CatalogueService
from portal.extensions import db
from portal.timeutil import BERLIN, as_utc, utcnow

__all__ = [
    "FreeSlot",
    "SearchResult",
    "booking_window",
    "check_bookable",
    "claim_units",
    "duration_for",
    "free_slots",
    "nearest_free",
    "opening_days",
    "search",
]

Items = Sequence[tuple[int, int]]  # (catalogue_service_id, quantity)


def duration_for(location_id: int, items: Items) -> int:
    """Total minutes of a visit combining `items` at the location (one query)."""
    if not items:
        raise BookingError("services", _("Bitte wählen Sie mindestens eine Leistung."), "empty")
    wanted: dict[int, int] = {}
    for service_id, quantity in items:
        if quantity < 1:
            raise BookingError("services", _("Die Anzahl muss mindestens 1 sein."), "quantity")
        wanted[service_id] = wanted.get(service_id, 0) + quantity
    rows = db.session.execute(
        sa.select(OfferedService.catalogue_service_id, OfferedService.duration_minutes, OfferedService.max_quantity)
        .join(CatalogueService, CatalogueService.id == OfferedService.catalogue_service_id)
        .where(
            OfferedService.location_id == location_id,
            OfferedService.catalogue_service_id.in_(wanted),
            OfferedService.active.is_(True),
            CatalogueService.active.is_(True),
        )
    ).all()
    offered = {row.catalogue_service_id: row for row in rows}
    total = 0
    for service_id, quantity in wanted.items():
        row = offered.get(service_id)
        if row is None:
            raise BookingError("services", _("Diese Leistung wird an diesem Standort nicht angeboten."), "not_offered")
        if quantity > row.max_quantity:
            raise BookingError(
                "services",
                _("Höchstens %(max)d pro Termin möglich.", max=row.max_quantity),
                "quantity",
            )
        total += row.duration_minutes * quantity
    return total


def _rules(location_id: int) -> slots.Rules:
    row = db.session.execute(
        sa.select(
            LocationSettings.active,
            LocationSettings.slot_minutes,
            LocationSettings.counters,
            LocationSettings.held_back_seats,
            LocationSettings.horizon_days,
            LocationSettings.min_notice_minutes,
            LocationSettings.buffer_minutes,
        ).where(LocationSettings.location_id == location_id)
    ).first()
    if row is None or not row.active:
        raise BookingError("location", _("An diesem Standort können keine Termine gebucht werden."), "unknown")
    return slots.Rules(
        slot_minutes=row.slot_minutes,
        counters=row.counters,
        held_back_seats=row.held_back_seats,
        horizon_days=row.horizon_days,
        min_notice_minutes=row.min_notice_minutes,
        buffer_minutes=row.buffer_minutes,
    )


def _periods(location_id: int) -> list[slots.Period]:
    rows = db.session.execute(
        sa.select(
            OpeningPeriod.weekday,
            OpeningPeriod.opens,
            OpeningPeriod.closes,
            OpeningPeriod.valid_from,
            OpeningPeriod.valid_until,
        ).where(OpeningPeriod.location_id == location_id)
    ).all()
    return [slots.Period(*row) for row in rows]


def _closures(location_id: int, first_day: date, last_day: date) -> list[slots.ClosedDays]:
    rows = db.session.execute(
        sa.select(Closure.first_day, Closure.last_day).where(
            Closure.location_id == location_id, Closure.first_day <= last_day, Closure.last_day >= first_day
        )
    ).all()
    return [slots.ClosedDays(*row) for row in rows]


# Seats the per-unit bit mask can carry when summed in SQL as a signed 64-bit integer.
MASK_SEATS = 62


class epoch_seconds(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """A UTC timestamp column as whole seconds since the epoch (slots.unit_key), computed by the database:
    integers cross the wire and need no datetime parsing per row."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds)
def _epoch_seconds_default(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_seconds_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # UTCDateTime stores naive UTC text on SQLite, which strftime reads as UTC.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


def _occupancy(location_id: int, begins: datetime, ends: datetime, now: datetime, counters: int) -> dict[int, int]:
    """Unit (slots.unit_key) → bit mask of the seats taken at `now`, for units in [begins, ends): one query.

    The claims are read through the unique index (location_id, unit_start, seat). Expired reservations and
    ended cool-downs are free (slots.Claim.holds_at, here in SQL). Each seat is claimed at most once per
    unit, so the sum of 2^seat per unit is its bit mask: the database folds a month of claims into one row
    per unit. Locations with more seats than the mask holds get (unit, seat) rows folded here instead.
    """
    claims = SeatClaim.__table__.c
    where = (
        claims.location_id == location_id,
        claims.unit_start >= begins,
        claims.unit_start < ends,
        sa.or_(claims.expires_at.is_(None), claims.expires_at > now),
        sa.or_(claims.hold_until.is_(None), claims.hold_until > now),
    )
    unit = epoch_seconds(claims.unit_start)
    if counters > MASK_SEATS:
        taken: dict[int, int] = {}
        for key, seat in db.session.execute(sa.select(unit, claims.seat).where(*where)).all():
            taken[key] = taken.get(key, 0) | (1 << seat)
        return taken
    bit = sa.cast(sa.literal(1), sa.BigInteger).op("<<")(claims.seat)
    # Grouped by the column, not the expression: the index delivers it, and the epoch is computed per unit.
    mask = sa.cast(sa.func.sum(bit), sa.BigInteger)  # PostgreSQL sums bigints as numeric; ints parse faster
    rows = db.session.execute(sa.select(unit, mask).where(*where).group_by(claims.unit_start)).all()
    return dict(rows)  # type: ignore[arg-type]  # (unit, mask) pairs


def _window(rules: slots.Rules, first_day: date, last_day: date, now: datetime) -> tuple[date, date]:
    """The requested days cut to what can be booked at all (notice and horizon)."""
    earliest, latest = slots.bookable_window(rules, now)
    return max(first_day, earliest.astimezone(BERLIN).date()), min(last_day, latest.astimezone(BERLIN).date())


def free_slots(
    location_id: int,
    items: Items,
    first_day: date,
    last_day: date,
    *,
    now: datetime | None = None,
    include_held_back: bool = False,
) -> list[FreeSlot]:
    """Free start times (aware UTC) between two Berlin days, inclusive, with seats left; sorted.

    Days in the past or beyond the horizon simply have none. BookingError for unknown services/location.
    """
    return search(location_id, items, first_day, last_day, now=now, include_held_back=include_held_back).slots


@dataclass(frozen=True)
class SearchResult:
    duration_minutes: int
    slots: list[FreeSlot]


def search(
    location_id: int,
    items: Items,
    first_day: date,
    last_day: date,
    *,
    now: datetime | None = None,
    include_held_back: bool = False,
) -> SearchResult:
    """free_slots, plus the visit's length (for pages and the API that show both)."""
    now = as_utc(now) if now else utcnow()
    rules = _rules(location_id)
    duration = duration_for(location_id, items)
    first_day, last_day = _window(rules, first_day, last_day, now)
    if first_day > last_day:
        return SearchResult(duration, [])
    periods = _periods(location_id)
    closures = _closures(location_id, first_day, last_day)
    begins, _ends = slots.day_bounds(first_day)
    _begins, ends = slots.day_bounds(last_day)
    taken = _occupancy(location_id, begins, ends, now, rules.counters)
    found = slots.free_slots_in(
        rules, periods, closures, taken, duration, first_day, last_day, now, include_held_back=include_held_back
    )
    return SearchResult(duration, found)


REFUSALS = {
    "past": lambda: _("Dieser Zeitpunkt liegt in der Vergangenheit."),
    "notice": lambda: _("Dieser Termin liegt zu kurzfristig; bitte wählen Sie einen späteren."),
    "horizon": lambda: _("So weit im Voraus können noch keine Termine gebucht werden."),
    "holiday": lambda: _("An Feiertagen ist der Standort geschlossen."),
    "closed": lambda: _("Der Standort ist an diesem Tag geschlossen."),
    "outside_hours": lambda: _("Der Termin liegt nicht vollständig innerhalb der Öffnungszeiten."),
    "off_grid": lambda: _("Termine beginnen nur zu den angebotenen Uhrzeiten."),
}


def check_bookable(
    location_id: int,
    items: Items,
    start: datetime,
    *,
    now: datetime | None = None,
    include_held_back: bool = False,
) -> int:
    """The visit's duration in minutes when it may start at `start` (seats aside); BookingError otherwise.

    `include_held_back` does not change the answer (seats are booking.py's business); it is accepted so both
    modules share one signature.
    """
    if start.tzinfo is None:
        raise BookingError("start", _("Bitte geben Sie eine Uhrzeit mit Zeitzone an."), "invalid")
    now = as_utc(now) if now else utcnow()
    rules = _rules(location_id)
    duration = duration_for(location_id, items)
    day = start.astimezone(BERLIN).date()
    code = slots.refusal(rules, _periods(location_id), _closures(location_id, day, day), duration, start, now)
    if code is not None:
        raise BookingError("start", REFUSALS[code](), code)
    return duration


def claim_units(location_id: int, start: datetime, duration_minutes: int) -> list[datetime]:
    """The unit starts (UTC) a booking at `start` covers, including the location's buffer."""
    rules = _rules(location_id)
    return slots.claim_units(start, duration_minutes, rules.buffer_minutes, rules.slot_minutes)


def nearest_free(
    location_id: int, items: Items, around: datetime, *, limit: int = 5, now: datetime | None = None
) -> list[datetime]:
    """Up to `limit` free starts closest in time to `around` (before or after), nearest first.

    Looks a few days either side first and widens to a month only when that finds too few.
    """
    around = as_utc(around) if around.tzinfo else around.replace(tzinfo=UTC)
    day = around.astimezone(BERLIN).date()
    found: list[FreeSlot] = []
    for before, after in ((3, 7), (14, 30)):
        found = free_slots(location_id, items, day - timedelta(days=before), day + timedelta(days=after), now=now)
        if len(found) >= limit:
            break
    found.sort(key=lambda slot: (abs((slot.start - around).total_seconds()), slot.start))
    return [slot.start for slot in found[:limit]]


def booking_window(location_id: int, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Earliest and latest start (aware UTC) the location accepts now: minimum notice and horizon."""
    now = as_utc(now) if now else utcnow()
    return slots.bookable_window(_rules(location_id), now)


def opening_days(location_id: int, first_day: date, last_day: date) -> list[date]:
    """The days in the range on which the location opens at all (holidays and closures excluded)."""
    periods = _periods(location_id)
    closures = _closures(location_id, first_day, last_day)
    return [day for day in slots.local_days(first_day, last_day) if slots.open_intervals(day, periods, closures)]
