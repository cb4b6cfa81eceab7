"""Builders for the GDPR tests: a person with an account and their appointments, past and ahead."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from appointments.models import Booking, BookingStatus, SeatClaim
from appointments.services.booking import HeldBooking
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from tests.appointments.booking.builders import Office, at, book, workday

NAME = "Erika Mustermann"
PHONE = "0351 4880"


def booked(office: Office, user: User, days_ahead: int = 3, hour: int = 9, **kwargs: Any) -> HeldBooking:
    """A booking made while signed in, some days ahead."""
    kwargs.setdefault("name", NAME)
    kwargs.setdefault("phone", PHONE)
    return book(office, at(workday(days_ahead), hour), email=user.email, user_id=user.id, **kwargs)


def past_visit(office: Office, user: User, days_ago: int = 20) -> Booking:
    """A visit that took place: booked while signed in, then served at the desk."""
    booking = booked(office, user, hour=10).booking
    starts = utcnow().replace(microsecond=0) - timedelta(days=days_ago)
    db.session.execute(sa.delete(SeatClaim).where(SeatClaim.booking_id == booking.id))
    booking.starts_at, booking.ends_at = starts, starts + timedelta(minutes=15)
    booking.status = BookingStatus.SERVED
    booking.served_at = starts + timedelta(minutes=12)
    db.session.commit()
    return booking


def fresh(booking_id: int) -> Booking:
    found = db.session.get(Booking, booking_id, populate_existing=True)
    assert found is not None
    return found


def details(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.details)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
