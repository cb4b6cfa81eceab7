"""Everything a slot search is computed from, in one round trip on PostgreSQL (availability.py uses it).

A cold search needs the location's settings with its availability version, the durations of the services
asked for, the opening periods, the closures and the seat claims folded per time unit. Read as four statements
(availability_rows.py), each round trip cost this process 0.3-1 ms of CPU (SQLAlchemy, psycopg, the socket)
whatever it returned, and under load each one waits for a turn on the CPU again. On PostgreSQL one statement
returns them all as arrays in a single row (lateral subqueries, parsed by psycopg in C); other databases (SQLite
in development and tests) use the four statements. Both read the same rows: the claims and closures of the
days asked for, a superset of the bookable window the engine then cuts to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from appointments import slots
from appointments.services import availability_rows as rows
from portal.extensions import db
from portal.timeutil import as_utc


@dataclass(frozen=True)
class Snapshot:
    rules: slots.Rules
    version: int
    duration: int
    periods: list[slots.Period]
    closures: list[slots.ClosedDays]
    taken: dict[int, int]  # slots.unit_key → bit mask of seats taken
    claims_end: datetime | None  # the first moment a reservation or cool-down among them runs out


# Bound by name, the same text every time: psycopg prepares it after five executions on a connection, since the
# slots API reads without a transaction (portal.reads_alone) and so no ROLLBACK makes psycopg forget its count.
_ONE_STATEMENT = sa.text(
    """
    SELECT s.active, s.slot_minutes, s.counters, s.held_back_seats, s.horizon_days, s.min_notice_minutes,
           s.buffer_minutes, s.availability_version,
           o.ids, o.durations, o.maxima,
           p.weekdays, p.opens, p.closes, p.valid_from, p.valid_until,
           c.firsts, c.lasts,
           u.keys, u.masks, u.expires, u.holds
    FROM appointment_location AS s
    CROSS JOIN LATERAL (
        SELECT array_agg(o.catalogue_service_id) AS ids, array_agg(o.duration_minutes) AS durations,
               array_agg(o.max_quantity) AS maxima
        FROM appointment_offered_service AS o JOIN catalogue_service AS cs ON cs.id = o.catalogue_service_id
        WHERE o.location_id = :location AND o.catalogue_service_id = ANY(:services) AND o.active AND cs.active
    ) AS o
    CROSS JOIN LATERAL (
        SELECT array_agg(weekday) AS weekdays, array_agg(opens) AS opens, array_agg(closes) AS closes,
               array_agg(valid_from) AS valid_from, array_agg(valid_until) AS valid_until
        FROM appointment_opening_period WHERE location_id = :location
    ) AS p
    CROSS JOIN LATERAL (
        SELECT array_agg(first_day) AS firsts, array_agg(last_day) AS lasts
        FROM appointment_closure
        WHERE location_id = :location AND first_day <= :last_day AND last_day >= :first_day
    ) AS c
    CROSS JOIN LATERAL (
        SELECT array_agg(unit) AS keys, array_agg(mask) AS masks, min(expires) AS expires, min(holds) AS holds
        FROM (
            SELECT CAST(EXTRACT(EPOCH FROM unit_start) AS BIGINT) AS unit,
                   CAST(sum(CAST(1 AS BIGINT) << seat) AS BIGINT) AS mask,
                   min(expires_at) AS expires, min(hold_until) AS holds
            FROM appointment_seat_claim
            WHERE location_id = :location AND unit_start >= :begins AND unit_start < :ends
              AND (expires_at IS NULL OR expires_at > :now) AND (hold_until IS NULL OR hold_until > :now)
              AND s.counters <= :mask_seats
            GROUP BY unit_start
        ) AS units
    ) AS u
    WHERE s.location_id = :location
    """
)


def snapshot(
    location_id: int,
    items: rows.Items,
    first_day: date,
    last_day: date,
    now: datetime,
    settings: tuple[slots.Rules, int] | None = None,
) -> Snapshot:
    """The rows of a search for the Berlin days [first_day, last_day] at `now`. BookingError for an unknown
    or inactive location (checked first), then for services not offered or quantities out of range.

    `settings` (rules and version just read, e.g. for a cache lookup) spare the four-statement path one
    statement; the one statement reads them anyway (as new as those or newer) and returns its own."""
    begins = slots.day_bounds(first_day)[0]
    ends = slots.day_bounds(last_day)[1]
    if db.session.get_bind().dialect.name != "postgresql":
        return _in_four(location_id, items, first_day, last_day, begins, ends, now, settings)
    found = db.session.execute(
        _ONE_STATEMENT,
        {
            "location": location_id,
            "services": sorted({service_id for service_id, _quantity in items}),
            "first_day": first_day,
            "last_day": last_day,
            "begins": begins,
            "ends": ends,
            "now": now,
            "mask_seats": rows.MASK_SEATS,
        },
    ).first()
    rules, version = rows.settings_row(found)
    assert found is not None  # settings_row refused a missing row
    wanted = rows.wanted_services(items)
    ids, durations, maxima = found[8:11]
    offered = dict(zip(ids, zip(durations, maxima, strict=True), strict=True)) if ids else {}
    duration = rows.visit_minutes(wanted, offered)
    periods = [slots.Period(*period) for period in _columns(found[11:16])]
    closures = [slots.ClosedDays(*closed) for closed in _columns(found[16:18])]
    if rules.counters > rows.MASK_SEATS:  # the sum would overflow: folded per seat instead
        taken, claims_end = rows.occupancy(location_id, begins, ends, now, rules.counters)
    else:
        keys, masks, expires, holds = found[18:22]
        taken = dict(zip(keys, masks, strict=True)) if keys else {}
        ends_first = [as_utc(moment) for moment in (expires, holds) if moment is not None]
        claims_end = min(ends_first, default=None)
    return Snapshot(rules, version, duration, periods, closures, taken, claims_end)


def _columns(arrays: Sequence[list | None]) -> list[tuple]:
    """Parallel arrays (one per column; None when no row matched) as rows."""
    if arrays[0] is None:
        return []
    return list(zip(*arrays, strict=True))


def _in_four(
    location_id: int,
    items: rows.Items,
    first_day: date,
    last_day: date,
    begins: datetime,
    ends: datetime,
    now: datetime,
    settings: tuple[slots.Rules, int] | None,
) -> Snapshot:
    rules, version = settings or rows.rules_and_version(location_id)
    duration = rows.duration_for(location_id, items)
    periods, closures = rows.calendar(location_id, (first_day, last_day))
    taken, claims_end = rows.occupancy(location_id, begins, ends, now, rules.counters)
    return Snapshot(rules, version, duration, periods, closures, taken, claims_end)
