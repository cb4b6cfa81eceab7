"""Free times: loads a location's rules, hours, closures and seat claims (availability_snapshot.py: one statement
on PostgreSQL, four elsewhere, whatever the number of bookings) and asks appointments.slots.

Searches are remembered per worker (an LRU of SEARCH_CACHE_SIZE answers per app; the config key
APPOINTMENTS_SEARCH_CACHE_SIZE overrides it, 0 switches the cache off), keyed on the location,
the services, the days asked for and the location's availability version, which every change that can alter
the answer raises in its own transaction (availability_version.py). A repeated search then costs one
statement: the settings row with the version. With APPOINTMENTS_SEARCH_CACHE_URL set, answers are shared by all
workers and hosts through Redis instead, keyed on a token the commit replaces (search_cache.py): a repeated
search costs no statement, and a change one computation for all workers. The clock is the other input: an
answer also stays valid only until the first thing that time alone changes (a reservation's or cool-down's end,
the first free start falling inside the minimum notice, the horizon reaching a new start) and at most
CACHE_MAX_AGE.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from appointments import slots
from appointments.errors import BookingError
from appointments.services import availability_version, search_cache
from appointments.services.availability_rows import Items, duration_for
from appointments.services.availability_rows import calendar as _calendar
from appointments.services.availability_rows import rules as _rules
from appointments.services.availability_rows import rules_and_version as _rules_and_version
from appointments.services.availability_snapshot import snapshot
from appointments.slots import FreeSlot
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
    """One remembered answer: valid for `version` (or the shared cache's `generation`) from `computed_at` until
    (not including) `valid_until`."""

    result: SearchResult
    version: int
    computed_at: datetime
    valid_until: datetime
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the API's serialised answer and its ETag
    generation: str | None = None  # search_cache's token when it came through the shared cache

    def fresh(self, version: int, now: datetime) -> bool:
        return self.version == version and self.generation is None and self.computed_at <= now < self.valid_until

    def fresh_in(self, generation: str, now: datetime) -> bool:
        return self.generation == generation and self.computed_at <= now < self.valid_until


Serialise = Callable[[CachedSearch], tuple[bytes, str]]

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


def _remembered(key: tuple, fresh: Callable[[CachedSearch], bool]) -> CachedSearch | None:
    cache = _cache()
    with _cache_lock:
        entry = cache.get(key)
        if entry is not None and fresh(entry):
            cache.move_to_end(key)
            return entry
    return None


def _remember(key: tuple, entry: CachedSearch, size: int) -> None:
    cache = _cache()
    with _cache_lock:
        cache[key] = entry
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)


def search_cached(
    location_id: int,
    items: Items,
    first_day: date,
    last_day: date,
    *,
    now: datetime | None = None,
    include_held_back: bool = False,
    serialise: Serialise | None = None,
) -> CachedSearch:
    """search() with its cache entry. A remembered answer costs one statement (settings and version), or none
    with the shared cache (search_cache.py). `serialise` makes the API's body and ETag (entry.extra["json"])
    for an answer computed here, so the shared cache holds it for every worker."""
    now = as_utc(now) if now else utcnow()
    key = (location_id, tuple(sorted((int(s), int(q)) for s, q in items)), first_day, last_day, include_held_back)
    size = current_app.config.get("APPOINTMENTS_SEARCH_CACHE_SIZE", SEARCH_CACHE_SIZE)  # 0: no cache
    usable = size > 0 and _cache_usable()
    shared = search_cache.shared_cache() if usable else None
    generation = shared.generation(location_id) if shared is not None else None
    if shared is not None and generation is not None:
        return _search_shared(shared, generation, key, items, now, size, serialise)
    if not usable:
        result, valid_until, version = _compute(location_id, items, first_day, last_day, now, include_held_back)
        return CachedSearch(result, version, now, valid_until)
    # The version is read before anything else: rows read afterwards are at least as new as it says.
    settings = _rules_and_version(location_id)
    version = settings[1]
    if entry := _remembered(key, lambda entry: entry.fresh(version, now)):
        return entry
    result, valid_until, _version = _compute(location_id, items, first_day, last_day, now, include_held_back, settings)
    entry = CachedSearch(result, version, now, valid_until)
    _remember(key, entry, size)
    return entry


def _search_shared(
    shared: search_cache.SharedCache,
    generation: str,
    key: tuple,
    items: Items,
    now: datetime,
    size: int,
    serialise: Serialise | None,
) -> CachedSearch:
    """The shared cache's path: this worker's LRU, then Redis, then one computation for all workers."""
    if entry := _remembered(key, lambda entry: entry.fresh_in(generation, now)):
        return entry
    shared_key = shared.entry_key(generation, key)
    value = shared.load(shared_key)
    if value is None and not shared.claim(shared_key):
        value = shared.wait_for(shared_key)
    entry = _decoded(value, generation) if value is not None else None
    if entry is None or not entry.fresh_in(generation, now):
        location_id, _items, first_day, last_day, include_held_back = key
        try:
            # Read after the token: at least as new as it.
            result, valid_until, version = _compute(location_id, items, first_day, last_day, now, include_held_back)
        except BaseException:
            shared.release(shared_key)  # waiting workers compute (and raise) themselves
            raise
        entry = CachedSearch(result, version, now, valid_until, generation=generation)
        if serialise is not None:
            entry.extra["json"] = serialise(entry)
        value = search_cache.encode(
            result.duration_minutes, result.slots, version, now, valid_until, entry.extra.get("json")
        )
        lifetime = min(valid_until - now, CACHE_MAX_AGE)
        shared.store(shared_key, value, int(lifetime.total_seconds() * 1000))
    _remember(key, entry, size)
    return entry


def _decoded(value: bytes, generation: str) -> CachedSearch | None:
    try:
        found = search_cache.decode(value)
    except (ValueError, KeyError, TypeError):
        return None  # written by another version of this code: compute instead
    result = SearchResult(found["duration"], [FreeSlot(start, seats) for start, seats in found["slots"]])
    entry = CachedSearch(result, found["version"], found["computed_at"], found["valid_until"], generation=generation)
    if found["answer"] is not None:
        entry.extra["json"] = found["answer"]
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
    items: Items,
    first_day: date,
    last_day: date,
    now: datetime,
    include_held_back: bool,
    settings: tuple[slots.Rules, int] | None = None,
) -> tuple[SearchResult, datetime, int]:
    """The answer at `now`, until when time alone leaves it unchanged, and the version its rows had."""
    rows = snapshot(location_id, items, first_day, last_day, now, settings)
    rules, periods, closures = rows.rules, rows.periods, rows.closures
    valid_until = now + CACHE_MAX_AGE
    wanted_last = last_day
    first_day, last_day = _window(rules, first_day, last_day, now)
    if first_day > last_day:
        return SearchResult(rows.duration, []), valid_until, rows.version
    found = slots.free_slots_in(
        rules,
        periods,
        closures,
        rows.taken,
        rows.duration,
        first_day,
        last_day,
        now,
        include_held_back=include_held_back,
    )
    moments = [valid_until]
    if rows.claims_end is not None:
        moments.append(rows.claims_end)  # a reservation or cool-down ends: a seat comes free
    if found:
        moments.append(found[0].start - timedelta(minutes=rules.min_notice_minutes))  # it falls into the notice
    latest = slots.bookable_window(rules, now)[1]
    if slots.day_bounds(wanted_last)[1] > latest:
        # The horizon cuts the range: the next start beyond it appears when the horizon reaches it.
        beyond = replace(rules, min_notice_minutes=0, horizon_days=BEYOND_ANY_HORIZON_DAYS)
        after = latest + timedelta(microseconds=1)
        start = next(
            slots.candidate_starts(beyond, periods, closures, rows.duration, first_day, wanted_last, after), None
        )
        if start is not None:
            moments.append(start - timedelta(days=rules.horizon_days))
    return SearchResult(rows.duration, found), min(moments), rows.version


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
    periods, closures = _calendar(location_id, (day, day))
    code = slots.refusal(rules, periods, closures, duration, start, now)
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
    periods, closures = _calendar(location_id, (first_day, last_day))
    return [day for day in slots.local_days(first_day, last_day) if slots.open_intervals(day, periods, closures)]


def bookable_from(location_id: int, day: date, *, now: datetime | None = None) -> datetime | None:
    """When `day` opens for booking, if part of its opening hours lies beyond the booking horizon: the moment
    its first opening beyond the horizon enters it (never before now). None when the day is within the
    horizon or the location does not open that day."""
    now = as_utc(now) if now else utcnow()
    _earliest, latest = booking_window(location_id, now=now)
    intervals = slots.open_intervals(day, *_calendar(location_id, (day, day)))
    beyond = [max(interval.opens, latest) for interval in intervals if interval.closes > latest]
    if not beyond:
        return None
    return max(min(beyond) - (latest - now), now)


def closed_for_today(location_id: int, day: date, *, now: datetime | None = None) -> bool:
    """Whether the location opens on `day` but every opening interval ends before the earliest bookable start:
    the day is not "booked out", its times are simply over (or inside the minimum notice)."""
    earliest, _ = booking_window(location_id, now=now)
    intervals = slots.open_intervals(day, *_calendar(location_id, (day, day)))
    return bool(intervals) and all(interval.closes <= earliest for interval in intervals)
