"""Claiming seats: the database decides who gets the last one.

A booking holds one seat number through every time unit it covers (a SeatClaim row per unit), and
(location, unit, seat) is unique. Two requests that both saw the seat free both try to insert; on PostgreSQL
the second insert waits for the first transaction and then fails with a unique violation, on SQLite the
second writer waits for the write lock (busy timeout) and then sees the row. Either way the loser rolls back
its SAVEPOINT and tries the next seat number; when none is left the booking is refused with SlotTaken.

Lock order (no deadlocks on PostgreSQL): seat rows first, the audit chain's advisory lock last. So releases
found on the way are only collected here; the caller audits them after its own claims are in. Every claim
inserted, freed or deleted here raises the location's availability version at commit (availability_version.py
watches the session; its row lock is the transaction's very last), so cached slot searches see the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from appointments.models import Booking, BookingStatus, LocationSettings, SeatClaim
from appointments.services import availability_version  # noqa: F401  (registers the session hooks)
from portal.extensions import db

HELD_STATUSES = (BookingStatus.RESERVED, BookingStatus.OFFERED)


def _expired(claim: sa.Row | SeatClaim, now: datetime) -> bool:
    return (claim.expires_at is not None and claim.expires_at <= now) or (
        claim.hold_until is not None and claim.hold_until <= now
    )


def release_rows(booking_ids: Sequence[int], now: datetime) -> list[Booking]:
    """Mark held bookings past their deadline released and drop all their claims; returns those released.

    The status change is conditional, so when two transactions find the same stale booking only one of them
    reports (and later audits) its release.
    """
    released: list[Booking] = []
    for booking_id in sorted(set(booking_ids)):
        result = db.session.execute(
            sa.update(Booking)
            .where(
                Booking.id == booking_id,
                Booking.status.in_([s.value for s in HELD_STATUSES]),
                Booking.confirm_by.is_not(None),
                Booking.confirm_by <= now,
            )
            .values(status=BookingStatus.RELEASED.value, sequence=Booking.sequence + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            db.session.execute(sa.delete(SeatClaim).where(SeatClaim.booking_id == booking_id))
            booking = db.session.get(Booking, booking_id, populate_existing=True)
            if booking is not None:
                released.append(booking)
    return released


def _current_claims(
    location_id: int, units: Sequence[datetime], now: datetime
) -> tuple[dict[datetime, set[int]], list[Booking]]:
    """Seats taken per unit, after clearing claims whose time has passed (and releasing their bookings)."""
    # Plain rows, not ORM objects: the stale ones are deleted in bulk below, behind the session's back.
    claims = db.session.execute(
        sa.select(
            SeatClaim.id,
            SeatClaim.unit_start,
            SeatClaim.seat,
            SeatClaim.booking_id,
            SeatClaim.expires_at,
            SeatClaim.hold_until,
        ).where(SeatClaim.location_id == location_id, SeatClaim.unit_start.in_(list(units)))
    ).all()
    stale = [c for c in claims if _expired(c, now)]
    released: list[Booking] = []
    if stale:
        stale_bookings = [c.booking_id for c in stale if c.booking_id is not None and c.expires_at is not None]
        released = release_rows(stale_bookings, now)
        db.session.execute(
            sa.delete(SeatClaim)
            .where(SeatClaim.id.in_([c.id for c in stale]))
            .execution_options(synchronize_session=False)
        )
    taken: dict[datetime, set[int]] = {unit: set() for unit in units}
    for claim in claims:
        if not _expired(claim, now):
            taken.setdefault(claim.unit_start, set()).add(claim.seat)
    return taken, released


def seats_for(settings: LocationSettings, kind: str) -> int:
    """Online bookings use seats 0..n-1 without the held-back ones; staff may use every seat."""
    if kind == "online":
        return max(0, settings.counters - settings.held_back_seats)
    return settings.counters


def claim_seat(
    booking: Booking,
    units: Sequence[datetime],
    seats: int,
    *,
    now: datetime,
    expires_at: datetime | None,
) -> tuple[int | None, list[Booking]]:
    """Insert the booking's claims on one seat free in every unit; (seat or None, bookings released)."""
    taken, released = _current_claims(booking.location_id, units, now)
    busy: set[int] = set().union(*taken.values())
    for seat in range(seats):
        if seat in busy:
            continue
        savepoint = db.session.begin_nested()
        try:
            db.session.execute(
                sa.insert(SeatClaim),
                [
                    {
                        "location_id": booking.location_id,
                        "unit_start": unit,
                        "seat": seat,
                        "booking_id": booking.id,
                        "expires_at": expires_at,
                        "hold_until": None,
                    }
                    for unit in units
                ],
            )
            savepoint.commit()
            return seat, released
        except IntegrityError:
            # Someone else committed (or is committing) this seat in one of our units: it is theirs.
            savepoint.rollback()
    return None, released


def free_claims(booking: Booking, *, hold_until: datetime | None) -> list[datetime]:
    """Give the booking's seats back: deleted, or kept as a cool-down hold nobody owns until `hold_until`."""
    units = list(
        db.session.execute(sa.select(SeatClaim.unit_start).where(SeatClaim.booking_id == booking.id)).scalars()
    )
    if hold_until is None:
        db.session.execute(sa.delete(SeatClaim).where(SeatClaim.booking_id == booking.id))
    else:
        db.session.execute(
            sa.update(SeatClaim)
            .where(SeatClaim.booking_id == booking.id)
            .values(booking_id=None, hold_until=hold_until, expires_at=None)
        )
    return sorted(units)
