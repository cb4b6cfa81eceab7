"""Free times: loads a location's rules, hours, closures and seat claims and asks appointments.slots.

Every function issues a fixed number of SQL statements whatever the number of bookings: one per kind of row
(offered services, settings, opening periods, closures, seat claims in the range), selected as plain tuples.

Searches are remembered per worker (an LRU of SEARCH_CACHE_SIZE answers per app; the config key
APPOINTMENTS_SEARCH_CACHE_SIZE overrides it, 0 switches the cache off), keyed on the location,
the services, the days asked for and the location's availability version, which every change that can alter
the answer raises in its own transaction (availability_version.py). A repeated search then costs one
statement: the settings row with the version. The clock is the other input: an answer also stays valid only
until the first thing that time alone changes (a reservation's or cool-down's end, the first free start
falling inside the minimum notice, the horizon reaching a new start) and at most CACHE_MAX_AGE.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from appointments import slots
from appointments.errors import BookingError
from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod, SeatClaim
from appointments.services import availability_version
from appointments.slots import FreeSlot
from portal.departments.models import CatalogueService
from portal.extensions import db
from portal.timeutil import BERLIN, as_utc, utcnow

__all__ = [
    "CachedSearch",
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
    "search_cached",
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


def _rules_and_version(location_id: int) -> tuple[slots.Rules, int]:
    row = db.session.execute(
        sa.select(
            LocationSettings.active,
            LocationSettings.slot_minutes,
            LocationSettings.counters,
            LocationSettings.held_back_seats,
            LocationSettings.horizon_days,
            LocationSettings.min_notice_minutes,
            LocationSettings.buffer_minutes,
            LocationSettings.availability_version,
        ).where(LocationSettings.location_id == location_id)
    ).first()
    if row is None or not row.active:
        raise BookingError("location", _("An diesem Standort können keine Termine gebucht werden."), "unknown")
    rules = slots.Rules(
        slot_minutes=row.slot_minutes,
        counters=row.counters,
        held_back_seats=row.held_back_seats,
        horizon_days=row.horizon_days,
        min_notice_minutes=row.min_notice_minutes,
        buffer_minutes=row.buffer_minutes,
    )
    return rules, row.availability_version


def _rules(location_id: int) -> slots.Rules:
    return _rules_and_version(location_id)[0]


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


def _occupancy(
    location_id: int, begins: datetime, ends: datetime, now: datetime, counters: int
) -> tuple[dict[int, int], datetime | None]:
    """Unit (slots.unit_key) → bit mask of the seats taken at `now`, for units in [begins, ends), and the first
    moment after `now` at which one of those claims runs out: one query.

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
    ends_first: list[datetime] = []
    if counters > MASK_SEATS:
        taken: dict[int, int] = {}
        rows = db.session.execute(sa.select(unit, claims.seat, claims.expires_at, claims.hold_until).where(*where))
        for key, seat, expires_at, hold_until in rows.all():
            taken[key] = taken.get(key, 0) | (1 << seat)
            ends_first.extend(moment for moment in (expires_at, hold_until) if moment is not None)
        return taken, min(ends_first, default=None)
    bit = sa.cast(sa.literal(1), sa.BigInteger).op("<<")(claims.seat)
    # Grouped by the column, not the expression: the index delivers it, and the epoch is computed per unit.
    mask = sa.cast(sa.func.sum(bit), sa.BigInteger)  # PostgreSQL sums bigints as numeric; ints parse faster
    query = sa.select(unit, mask, sa.func.min(claims.expires_at), sa.func.min(claims.hold_until))
    taken = {}
    for key, bits, expires_at, hold_until in db.session.execute(query.where(*where).group_by(claims.unit_start)):
        taken[key] = bits
        if expires_at is not None:
            ends_first.append(expires_at)
        if hold_until is not None:
            ends_first.append(hold_until)
    return taken, min(ends_first, default=None)


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
    found = search(location_id, items, first_day, last_day, now=now, include_held_back=include_held_back).slots
    return list(found)  # the cached list stays the cache's


@dataclass(frozen=True)
class SearchResult:
    duration_minutes: int
    slots: list[FreeSlot]  # shared with the cache: read, do not change


@dataclass
class CachedSearch:
    """One remembered answer: valid for `version` from `computed_at` until (not including) `valid_until`."""

    result: SearchResult
    version: int
    computed_at: datetime
    valid_until: datetime
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the API's serialised answer and its ETag

    def fresh(self, version: int, now: datetime) -> bool:
        return self.version == version and self.computed_at <= now < self.valid_until


SEARCH_CACHE_SIZE = 256
CACHE_MAX_AGE = timedelta(seconds=60)
BEYOND_ANY_HORIZON_DAYS = 800  # a location's horizon is at most 730 days
_cache_lock = threading.Lock()  # the dev server and threaded workers share an app


def _cache() -> OrderedDict[tuple, CachedSearch]:
    # Per app, not per process: tests make an app per database, and ids and versions repeat across them.
    return current_app.extensions.setdefault("appointments_search_cache", OrderedDict())


def _cache_usable() -> bool:
    """Not inside a transaction that changed availability itself: its own uncommitted rows are not what the
    version stands for, so it neither reads nor fills the cache."""
    info = db.session.info
    return not (info.get(availability_version.TOUCHED) or info.get(availability_version.SERVICES))


def search_cached(
    location_id: int,
    items: Items,
    first_day: date,
    last_day: date,
    *,
    now: datetime | None = None,
    include_held_back: bool = False,
) -> CachedSearch:
    """search() with its cache entry: a remembered answer costs one statement (settings and version)."""
    now = as_utc(now) if now else utcnow()
    # The version is read before anything else: rows read afterwards are at least as new as it says.
    rules, version = _rules_and_version(location_id)
    key = (location_id, tuple(sorted((int(s), int(q)) for s, q in items)), first_day, last_day, include_held_back)
    size = current_app.config.get("APPOINTMENTS_SEARCH_CACHE_SIZE", SEARCH_CACHE_SIZE)  # 0: no cache
    usable = size > 0 and _cache_usable()
    cache = _cache()
    if usable:
        with _cache_lock:
            entry = cache.get(key)
            if entry is not None and entry.fresh(version, now):
                cache.move_to_end(key)
                return entry
    result, valid_until = _compute(location_id, rules, items, first_day, last_day, now, include_held_back)
    entry = CachedSearch(result, version, now, valid_until)
    if usable:
        with _cache_lock:
            cache[key] = entry
            cache.move_to_end(key)
            while len(cache) > size:
                cache.popitem(last=False)
    return entry


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
    return search_cached(location_id, items, first_day, last_day, now=now, include_held_back=include_held_back).result


def _compute(
    location_id: int,
    rules: slots.Rules,
    items: Items,
    first_day: date,
    last_day: date,
    now: datetime,
    include_held_back: bool,
) -> tuple[SearchResult, datetime]:
    """The answer at `now`, and until when time alone leaves it unchanged."""
    valid_until = now + CACHE_MAX_AGE
    duration = duration_for(location_id, items)
    wanted_last = last_day
    first_day, last_day = _window(rules, first_day, last_day, now)
    if first_day > last_day:
        return SearchResult(duration, []), valid_until
    periods = _periods(location_id)
    closures = _closures(location_id, first_day, last_day)
    begins, _ends = slots.day_bounds(first_day)
    _begins, ends = slots.day_bounds(last_day)
    taken, claim_ends = _occupancy(location_id, begins, ends, now, rules.counters)
    found = slots.free_slots_in(
        rules, periods, closures, taken, duration, first_day, last_day, now, include_held_back=include_held_back
    )
    moments = [valid_until]
    if claim_ends is not None:
        moments.append(claim_ends)  # a reservation or cool-down ends: a seat comes free
    if found:
        moments.append(found[0].start - timedelta(minutes=rules.min_notice_minutes))  # it falls into the notice
    latest = slots.bookable_window(rules, now)[1]
    if slots.day_bounds(wanted_last)[1] > latest:
        # The horizon cuts the range: the next start beyond it appears when the horizon reaches it.
        beyond = replace(rules, min_notice_minutes=0, horizon_days=BEYOND_ANY_HORIZON_DAYS)
        after = latest + timedelta(microseconds=1)
        start = next(slots.candidate_starts(beyond, periods, closures, duration, first_day, wanted_last, after), None)
        if start is not None:
            moments.append(start - timedelta(days=rules.horizon_days))
    return SearchResult(duration, found), min(moments)


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
    nearest = sorted(found, key=lambda slot: (abs((slot.start - around).total_seconds()), slot.start))
    return [slot.start for slot in nearest[:limit]]


def booking_window(location_id: int, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Earliest and latest start (aware UTC) the location accepts now: minimum notice and horizon."""
    now = as_utc(now) if now else utcnow()
    return slots.bookable_window(_rules(location_id), now)


def opening_days(location_id: int, first_day: date, last_day: date) -> list[date]:
    """The days in the range on which the location opens at all (holidays and closures excluded)."""
    periods = _periods(location_id)
    closures = _closures(location_id, first_day, last_day)
    return [day for day in slots.local_days(first_day, last_day) if slots.open_intervals(day, periods, closures)]


def closed_for_today(location_id: int, day: date, *, now: datetime | None = None) -> bool:
    """Whether the location opens on `day` but every opening interval ends before the earliest bookable start:
    the day is not "booked out", its times are simply over (or inside the minimum notice)."""
    earliest, _ = booking_window(location_id, now=now)
    intervals = slots.open_intervals(day, _periods(location_id), _closures(location_id, day, day))
    return bool(intervals) and all(interval.closes <= earliest for interval in intervals)
