"""Builders for booking tests: a bookable location with one service, and a free weekday morning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from appointments.models import Booking, SeatClaim
from appointments.services.booking import HeldBooking, hold_booking
from appointments.slots import is_public_holiday
from portal.actors import ANONYMOUS
from portal.audit.models import AuditEvent
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import BERLIN
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer


@dataclass
class Office:
    location: Location
    service: CatalogueService


def make_office(*, counters: int = 1, minutes: int = 15, **settings: Any) -> Office:
    location = make_bookable_location(counters=counters, **settings)
    service = make_catalogue_service(location.department)
    offer(location, service, minutes=minutes)
    return Office(location, service)


def workday(days_ahead: int = 3) -> date:
    """A weekday at least `days_ahead` days from today that is no Saxon public holiday."""
    day = datetime.now(BERLIN).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or is_public_holiday(day):
        day += timedelta(days=1)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time as an aware datetime (what an API client sends)."""
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def book(office: Office, start: datetime, email: str = "erika@example.org", **kwargs: Any) -> HeldBooking:
    kwargs.setdefault("name", "Erika Mustermann")
    return hold_booking(
        kwargs.pop("actor", ANONYMOUS),
        location_id=office.location.id,
        items=kwargs.pop("items", [(office.service.id, 1)]),
        start=start,
        email=email,
        **kwargs,
    )


def count(model: Any) -> int:
    return int(db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def held_rows() -> tuple[int, int, int]:
    """(bookings, seat claims, mails): all zero when nothing was held."""
    return count(Booking), count(SeatClaim), count(OutboxMessage)


def mails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.execute(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
        )
        .scalars()
        .all()
    )


def audit_actions(reference: str | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action.like("appointment.%")).order_by(AuditEvent.seq)
    events = list(db.session.execute(query).scalars())
    return [e for e in events if reference is None or reference in e.details]
