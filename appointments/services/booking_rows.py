"""Rows every new booking needs, whether a person books or the waitlist offers a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import uuid4

import sqlalchemy as sa

from appointments.models import Booking, BookingItem, OfferedService
from portal.extensions import db
from portal.timeutil import BERLIN


def item_rows(location_id: int, items: Sequence[tuple[int, int]]) -> list[BookingItem]:
    """One item per service (a service named twice adds up), with the minutes per unit offered now."""
    per_unit = dict(
        db.session.execute(
            sa.select(OfferedService.catalogue_service_id, OfferedService.duration_minutes).where(
                OfferedService.location_id == location_id,
                OfferedService.catalogue_service_id.in_([service_id for service_id, _q in items]),
            )
        ).all()
    )
    merged: dict[int, int] = {}
    for service_id, quantity in items:
        merged[service_id] = merged.get(service_id, 0) + quantity
    return [
        BookingItem(catalogue_service_id=service_id, quantity=quantity, duration_minutes=per_unit[service_id])
        for service_id, quantity in merged.items()
    ]


class Person(Protocol):
    """Who the booking is for: the contact typed in on the booking page, or a waitlist entry."""

    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def language(self) -> str: ...


def add_booking(
    location_id: int,
    start: datetime,
    duration: int,
    items: Sequence[tuple[int, int]],
    person: Person,
    now: datetime,
    *,
    manage_token_hash: str,
    user_id: int | None,
    kind: str,
    organisation_id: int | None = None,
    status: str,
    confirm_by: datetime | None,
    confirmed_at: datetime | None = None,
) -> Booking:
    """Add a new booking with its items and give it its reference, which is made from its id."""
    booking = Booking(
        uid=f"{uuid4()}@stadtportal",
        manage_token_hash=manage_token_hash,
        location_id=location_id,
        kind=kind,
        status=status,
        starts_at=start,
        ends_at=start + timedelta(minutes=duration),
        name=person.name,
        email=person.email,
        phone=person.phone,
        language=person.language,
        user_id=user_id,
        organisation_id=organisation_id,
        created_at=now,
        confirm_by=confirm_by,
        confirmed_at=confirmed_at,
        items=item_rows(location_id, items),
    )
    db.session.add(booking)
    db.session.flush()  # the id, for the reference; also starts SQLite's write transaction early
    booking.reference = f"T-{now.astimezone(BERLIN).year}-{booking.id:06d}"
    return booking
