"""The rows a slot search is computed from, read with as few round trips as possible (availability.py uses them).

One statement per kind of row whatever the number of bookings: the location's settings with its availability
version, the offered services (duration), the opening periods with the closures in the range, and the seat
claims in the range folded into one bit mask per time unit. Table columns, not ORM attributes, are selected: plain
Core statements with tuples cost less per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from appointments import slots
from appointments.errors import BookingError
from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod, SeatClaim
from portal.departments.models import CatalogueService
from portal.extensions import db

Items = Sequence[tuple[int, int]]  # (catalogue_service_id, quantity)


def duration_for(location_id: int, items: Items) -> int:
    """Total minutes of a visit combining `items` at the location (one query)."""
    wanted = wanted_services(items)
    offers, services = OfferedService.__table__.c, CatalogueService.__table__.c
    rows = db.session.execute(
        sa.select(offers.catalogue_service_id, offers.duration_minutes, offers.max_quantity)
        .join_from(OfferedService.__table__, CatalogueService.__table__, services.id == offers.catalogue_service_id)
        .where(
            offers.location_id == location_id,
            offers.catalogue_service_id.in_(wanted),
            offers.active.is_(True),
            services.active.is_(True),
        )
    ).all()
    return visit_minutes(wanted, {row[0]: (row[1], row[2]) for row in rows})


def wanted_services(items: Items) -> dict[int, int]:
    """Catalogue service → total quantity asked for; BookingError for none or a quantity below 1."""
    if not items:
        raise BookingError("services", _("Bitte wählen Sie mindestens eine Leistung."), "empty")
    wanted: dict[int, int] = {}
    for service_id, quantity in items:
        if quantity < 1:
            raise BookingError("services", _("Die Anzahl muss mindestens 1 sein."), "quantity")
        wanted[service_id] = wanted.get(service_id, 0) + quantity
    return wanted


def visit_minutes(wanted: dict[int, int], offered: dict[int, tuple[int, int]]) -> int:
    """The visit's length from the offers found (service → (duration, max quantity)) of the active services."""
    total = 0
    for service_id, quantity in wanted.items():
        found = offered.get(service_id)
        if found is None:
            raise BookingError("services", _("Diese Leistung wird an diesem Standort nicht angeboten."), "not_offered")
        duration, max_quantity = found
        if quantity > max_quantity:
            raise BookingError(
                "services",
                _("Höchstens %(max)d pro Termin möglich.", max=max_quantity),
                "quantity",
            )
        total += duration * quantity
    return total


def rules_and_version(location_id: int) -> tuple[slots.Rules, int]:
    settings = LocationSettings.__table__.c  # table columns, not ORM attributes: a plain Core statement is cheaper
    row = db.session.execute(
        sa.select(
            settings.active,
            settings.slot_minutes,
            settings.counters,
            settings.held_back_seats,
            settings.horizon_days,
            settings.min_notice_minutes,
            settings.buffer_minutes,
            settings.availability_version,
        ).where(settings.location_id == location_id)
    ).first()
    return settings_row(row)


def settings_row(row: Sequence[Any] | None) -> tuple[slots.Rules, int]:
    """Rules and version from (active, slot_minutes, counters, held_back_seats, horizon_days,
    min_notice_minutes, buffer_minutes, availability_version); BookingError for a missing or inactive one."""
    if row is None or not row[0]:
        raise BookingError("location", _("An diesem Standort können keine Termine gebucht werden."), "unknown")
    rules = slots.Rules(
        slot_minutes=row[1],
        counters=row[2],
        held_back_seats=row[3],
        horizon_days=row[4],
        min_notice_minutes=row[5],
        buffer_minutes=row[6],
    )
    return rules, row[7]


def rules(location_id: int) -> slots.Rules:
    return rules_and_version(location_id)[0]


def calendar(location_id: int, days: tuple[date, date] | None) -> tuple[list[slots.Period], list[slots.ClosedDays]]:
    """The opening periods and (when `days` are given) the closures overlapping them: one statement, since each
    round trip to the database costs more here than the rows do."""
    periods = OpeningPeriod.__table__.c
    found = sa.select(
        sa.literal(0).label("kind"),
        periods.weekday,
        periods.opens,
        periods.closes,
        periods.valid_from,
        periods.valid_until,
    ).where(periods.location_id == location_id)
    if days is not None:
        closures = Closure.__table__.c
        none = sa.null()
        found = sa.union_all(
            found,
            sa.select(sa.literal(1), none, none, none, closures.first_day, closures.last_day).where(
                closures.location_id == location_id, closures.first_day <= days[1], closures.last_day >= days[0]
            ),
        )  # type: ignore[assignment]
    opening: list[slots.Period] = []
    closed: list[slots.ClosedDays] = []
    for kind, weekday, opens, closes, first, last in db.session.execute(found):
        if kind == 0:
            opening.append(slots.Period(weekday, opens, closes, first, last))
        else:
            closed.append(slots.ClosedDays(first, last))
    return opening, closed


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


def occupancy(
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
    query = query.where(*where).group_by(claims.unit_start)
    if db.session.get_bind().dialect.name == "postgresql":
        # Two integer arrays in one row: psycopg parses them in C, where 800 rows cost a Python row object each.
        units = query.subquery()
        keys, masks, expires, holds = db.session.execute(
            sa.select(
                sa.func.array_agg(units.c[0]),
                sa.func.array_agg(units.c[1]),
                sa.func.min(units.c[2]),
                sa.func.min(units.c[3]),
            )
        ).one()
        ends_first = [moment for moment in (expires, holds) if moment is not None]
        return (dict(zip(keys, masks, strict=True)) if keys else {}), min(ends_first, default=None)
    taken = {}
    for key, bits, expires_at, hold_until in db.session.execute(query):
        taken[key] = bits
        if expires_at is not None:
            ends_first.append(expires_at)
        if hold_until is not None:
            ends_first.append(hold_until)
    return taken, min(ends_first, default=None)
