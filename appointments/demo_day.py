"""Demo data of the appointments service: a realistic day on today's desk of both Bürgerbüros.

A new clerk who opens the desk sees what a morning looks like: people served, one who did not come, one
called to a counter, people checked in and waiting (one without an appointment), and appointments still to
come. The times are laid around now, so the day reads right whenever the demo is loaded. Idempotent: a
location that already has demo visitors today is left alone.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from appointments.models import Booking, BookingKind, BookingStatus, SeatClaim
from appointments.services import availability
from appointments.services.booking_rows import add_booking
from appointments.services.desk import counter_labels
from portal.demo_data import DEMO_DOMAIN
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow
from portal.transaction import transaction

LOCATIONS = ("Bürgerbüro Mitte", "Bürgerbüro Nord")


@dataclass(frozen=True)
class Visitor:
    name: str
    service: str
    minutes_from_now: int  # the appointment's start, relative to now (rounded to ten minutes)
    state: str  # served, no_show, called, waiting, walk_in, late, upcoming
    walk_in: bool = False

    @property
    def email(self) -> str | None:
        if self.walk_in:
            return None
        return self.name.lower().replace(" ", ".").replace("ü", "ue").replace("ö", "oe") + "@" + DEMO_DOMAIN

    language = "de"
    phone = None


DAY = [
    Visitor("Jonas Becker", "Personalausweis beantragen", -100, "served"),
    Visitor("Fatma Yılmaz", "Meldebescheinigung", -80, "served"),
    Visitor("Lena Hoffmann", "Reisepass beantragen", -60, "no_show"),
    Visitor("Piotr Nowak", "Personalausweis beantragen", -20, "called"),
    Visitor("Marie Schulz", "Meldebescheinigung", -10, "waiting"),
    Visitor("Karl Richter", "Reisepass beantragen", 0, "waiting"),
    Visitor("Thomas Krüger", "Meldebescheinigung", -5, "late"),  # due, not here yet: the desk offers "no-show"
    Visitor("Gisela Meier", "Meldebescheinigung", -5, "walk_in", walk_in=True),
    Visitor("Sofia Rossi", "Personalausweis beantragen", 30, "upcoming"),
    Visitor("Hannah Wagner", "Reisepass beantragen", 60, "upcoming"),
    Visitor("Ali Hassan", "Meldebescheinigung", 90, "upcoming"),
]


def _rounded_now() -> datetime:
    now = utcnow()
    return now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 10)


def _claim(booking: Booking, counters: int, minutes: int) -> None:
    """Seat claims as a booking would hold them; a seat taken by a real booking is left to it."""
    units = availability.claim_units(booking.location_id, booking.starts_at, minutes)
    for seat in range(counters):
        try:
            with db.session.begin_nested():
                for unit in units:
                    db.session.add(
                        SeatClaim(location_id=booking.location_id, unit_start=unit, seat=seat, booking_id=booking.id)
                    )
                db.session.flush()
            return
        except IntegrityError:
            continue


def _visitor(location: Location, counters: list[str], visitor: Visitor, service: CatalogueService, number: int):
    now = utcnow()
    start = _rounded_now() + timedelta(minutes=visitor.minutes_from_now)
    if visitor.state == "late":  # due already, yet today even just after midnight
        midnight = datetime.combine(now.astimezone(BERLIN).date(), datetime.min.time(), tzinfo=BERLIN)
        start = max(start, midnight.astimezone(UTC))
    booking = add_booking(
        location_id=location.id,
        items=[(service.id, 1)],
        start=start,
        duration=15,
        person=visitor,
        user_id=None,
        kind=BookingKind.WALK_IN if visitor.walk_in else BookingKind.ONLINE,
        now=now,
        manage_token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
        status=BookingStatus.CONFIRMED,
        confirm_by=None,
        confirmed_at=now,
    )
    if visitor.walk_in:
        booking.reference = None
    else:
        _claim(booking, len(counters), 15)
    arrived = start - timedelta(minutes=5)
    if visitor.state in ("served", "called", "waiting", "walk_in"):
        booking.status = BookingStatus.CHECKED_IN
        booking.checked_in_at = min(arrived, now)
        booking.queue_day = now.astimezone(BERLIN).date()
        booking.queue_number = number
    if visitor.state in ("served", "called"):
        booking.status = BookingStatus.CALLED
        booking.called_at = min(start, now)
        booking.counter = counters[number % len(counters)]
    if visitor.state == "served":
        booking.status = BookingStatus.SERVED
        booking.served_at = min(start + timedelta(minutes=15), now)
    if visitor.state == "no_show":
        booking.status = BookingStatus.NO_SHOW
        booking.no_show_at = min(start + timedelta(minutes=15), now)


def load_day(echo: Callable[[str], None] = print) -> int:
    """Today's visitors at both Bürgerbüros; returns how many were created."""
    from appointments.models import LocationSettings

    created = 0
    today = utcnow().astimezone(BERLIN).date()
    with transaction():
        for name in LOCATIONS:
            location = db.session.scalar(sa.select(Location).where(Location.name == name))
            settings = db.session.get(LocationSettings, location.id) if location else None
            if location is None or settings is None:
                echo(f"  skipped today's desk at {name}: location not set up")
                continue
            present = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Booking)
                .where(
                    Booking.location_id == location.id,
                    Booking.created_at >= datetime.combine(today, datetime.min.time(), BERLIN),
                    Booking.name.in_([v.name for v in DAY]),
                )
            )
            if present:
                continue
            services = {
                s.name: s
                for s in db.session.scalars(
                    sa.select(CatalogueService).where(CatalogueService.name.in_({v.service for v in DAY}))
                )
            }
            counters = counter_labels(settings.counters)
            number = 0
            for visitor in DAY:
                if visitor.service not in services:
                    continue
                if visitor.state in ("served", "called", "waiting", "walk_in"):
                    number += 1
                _visitor(location, counters, visitor, services[visitor.service], number)
                created += 1
    echo(f"  today's desk: {created} visitors created")
    return created
