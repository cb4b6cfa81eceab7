"""Test bookings for the desk, inserted directly (Booking + BookingItem + SeatClaim rows), so these tests do
not depend on the booking code."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from appointments.models import Booking, BookingItem, BookingStatus, LocationSettings, SeatClaim
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import BERLIN, utcnow

_numbers = itertools.count(1)


def today_at(hour: int, minute: int = 0) -> datetime:
    """Today (Europe/Berlin) at a local time, as UTC."""
    return datetime.combine(utcnow().astimezone(BERLIN).date(), time(hour, minute), BERLIN).astimezone(UTC)


def earlier_today(minutes: int = 30) -> datetime:
    """A moment that has passed and still lies today (local), for bookings whose start has passed."""
    start_of_day = today_at(0)
    return max(utcnow() - timedelta(minutes=minutes), start_of_day)


def make_booking(
    location: Location,
    service: CatalogueService,
    *,
    starts_at: datetime,
    minutes: int = 15,
    status: str = BookingStatus.CONFIRMED,
    name: str = "Berta Bürgerin",
    email: str | None = "berta@example.org",
    seat: int = 0,
    reference: str | None = "",
    kind: str = "online",
    **fields: object,
) -> Booking:
    number = next(_numbers)
    booking = Booking(
        reference=f"T-2026-{number:06d}" if reference == "" else reference,
        kind=kind,
        uid=f"{uuid.uuid4()}@test",
        manage_token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        location_id=location.id,
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        name=name,
        email=email,
        items=[BookingItem(catalogue_service_id=service.id, quantity=1, duration_minutes=minutes)],
        **fields,
    )
    db.session.add(booking)
    db.session.flush()
    if kind == "walk_in":  # walk-ins queue; they claim no seats
        db.session.commit()
        return booking
    settings = db.session.get(LocationSettings, location.id)
    unit = settings.slot_minutes if settings else 10
    unit_start = starts_at
    while unit_start < booking.ends_at:
        db.session.add(SeatClaim(location_id=location.id, unit_start=unit_start, seat=seat, booking_id=booking.id))
        unit_start += timedelta(minutes=unit)
    db.session.commit()
    return booking


def cancelled_by_the_city(bookings: list[Booking], reason: str) -> list[OutboxMessage]:
    """Asserts what a closed day and a closure's cancellation both do to each booking (cancelled with the reason,
    the calendar sequence raised, the seats freed); the mails sent."""
    for booking in bookings:
        db.session.refresh(booking)
        assert (booking.status, booking.sequence, booking.cancel_reason) == ("cancelled", 1, reason)
    claims = sa.select(sa.func.count()).select_from(SeatClaim).where(SeatClaim.booking_id.in_(b.id for b in bookings))
    assert db.session.scalar(claims) == 0
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
