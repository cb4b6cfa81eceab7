"""Appointments booked for a case of another service, such as the advisory appointment for a special-use permit.

The appointments service knows no other service: each one that wants its cases linked registers a resolver for
its prefix (`permit:<public id>`). A resolver answers whether the acting person may link a booking to that case,
and with which label, so a booking never points at a case that is not the booker's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app

from appointments.models import Booking
from portal.actors import Actor
from portal.departments.models import Location
from portal.extensions import db

RESOLVERS_KEY = "stadtportal_case_link_resolvers"
MAX_KEY = 64  # the column's width


@dataclass(frozen=True)
class CaseLink:
    key: str  # "permit:<public id>", stored on the booking
    label: str  # what the booker reads: "Antrag auf Sondernutzung SNU-2026-000012"
    url: str  # the case's page for the booker


Resolver = Callable[[Actor, str], CaseLink | None]


def register_resolver(app: Flask, prefix: str, resolver: Resolver) -> None:
    """Called by a service's register(app): `resolver(actor, id)` answers for keys `prefix:id`."""
    app.extensions.setdefault(RESOLVERS_KEY, {})[prefix] = resolver


def resolve(actor: Actor, key: str | None) -> CaseLink | None:
    """The case behind `key` if it exists and the actor may link an appointment to it, else None."""
    if not key or len(key) > MAX_KEY or ":" not in key:
        return None
    prefix, _sep, ident = key.partition(":")
    resolver = current_app.extensions.get(RESOLVERS_KEY, {}).get(prefix)
    return resolver(actor, ident) if resolver is not None and ident else None


@dataclass(frozen=True)
class LinkedBooking:
    reference: str | None
    starts_at: datetime
    status: str
    location: str  # the location's name


def bookings_for_case(key: str) -> list[LinkedBooking]:
    """The appointments booked for a case, soonest first; the case's service decides who sees them."""
    rows = db.session.execute(
        sa.select(Booking.reference, Booking.starts_at, Booking.status, Location.name)
        .join(Location, Location.id == Booking.location_id)
        .where(Booking.case_key == key)
        .order_by(Booking.starts_at, Booking.id)
    )
    return [LinkedBooking(row.reference, row.starts_at, row.status, row.name) for row in rows]
