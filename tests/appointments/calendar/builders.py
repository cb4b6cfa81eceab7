"""Bookings built straight into the database, for tests of the calendar files and feeds."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from appointments.models import Booking, BookingItem, BookingStatus
from portal.departments.models import CatalogueService, Location
from portal.extensions import db


def make_booking(
    location: Location,
    services: list[tuple[CatalogueService, int]],
    start: datetime,
    *,
    minutes: int = 15,
    status: str = BookingStatus.CONFIRMED,
    reference: str | None = None,
    name: str = "Erika Mustermann",
    email: str | None = "erika@example.org",
    user_id: int | None = None,
) -> Booking:
    """A booking at `start` (aware) holding no seat claims: enough for calendar files and feeds."""
    booking = Booking(
        reference=reference or f"T-{start.year}-{secrets.randbelow(999999):06d}",
        uid=f"{uuid.uuid4()}@stadtportal.example",
        manage_token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        location_id=location.id,
        status=status,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes * sum(q for _, q in services)),
        name=name,
        email=email,
        user_id=user_id,
    )
    for service, quantity in services:
        booking.items.append(BookingItem(catalogue_service_id=service.id, quantity=quantity, duration_minutes=minutes))
    db.session.add(booking)
    db.session.commit()
    return booking
