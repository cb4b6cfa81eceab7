"""The clerk's desk: the day list, check-in with queue numbers, calling, served / no-show, walk-ins.

Who may act: staff with the clerk or department_admin role in the department owning the location (checked
against the actor passed in); platform admins everywhere. The waiting-room display is public and shows
queue numbers and counters only. Cancelling a whole day (a closure) is closure_bookings.py's.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

import appointments.actions_desk  # noqa: F401  (declares the audit actions)
from appointments.errors import BookingError
from appointments.models import (
    Booking,
    BookingItem,
    BookingKind,
    BookingStatus,
    LocationSettings,
    OfferedService,
)
from appointments.services import fees
from appointments.services.qr import qr_svg  # noqa: F401  (re-exported: the desk prints check-in codes)
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.timeutil import BERLIN, as_utc, utcnow
from portal.transaction import transaction

DESK_ROLES = ("clerk", "department_admin")
QUEUE_RETRIES = 10
DISPLAY_CALLED = 8  # the latest calls shown on the waiting-room screen


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a local (Europe/Berlin) day starts and ends; DST days have 23 or 25 hours."""
    start = datetime.combine(day, time(0), BERLIN).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), BERLIN).astimezone(UTC)
    return start, end


def local_day(moment: datetime) -> date:
    return as_utc(moment).astimezone(BERLIN).date()


def counter_labels(counters: int) -> list[str]:
    return [str(_l("Schalter %(number)s", number=n)) for n in range(1, counters + 1)]


# --- who may act -----------------------------------------------------------------------------------------


def may_serve(actor: Actor, location: Location) -> bool:
    if actor.has_role("platform_admin"):
        return True
    return any(actor.has_role(role, location.department_id) for role in DESK_ROLES)


def may_close_days(actor: Actor, location: Location) -> bool:
    return actor.has_role("platform_admin") or actor.has_role("department_admin", location.department_id)


def _settings(location_id: int) -> tuple[Location, LocationSettings]:
    row = db.session.execute(
        sa.select(Location, LocationSettings)
        .join(LocationSettings, LocationSettings.location_id == Location.id)
        .where(Location.id == location_id)
    ).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def desk_location(actor: Actor, location_id: int) -> tuple[Location, LocationSettings]:
    """The location and its settings, if the actor may work its desk (404 unknown, 403 not theirs)."""
    location, settings = _settings(location_id)
    if not may_serve(actor, location):
        raise Forbidden()
    return location, settings


def desk_locations(actor: Actor) -> list[Location]:
    """The appointment locations whose desk the actor may serve, by name."""
    query = sa.select(Location).join(LocationSettings, LocationSettings.location_id == Location.id)
    if not actor.has_role("platform_admin"):
        user = actor.user
        departments = [m.department_id for m in user.memberships if m.role in DESK_ROLES] if user is not None else []
        query = query.where(Location.department_id.in_(departments))
    return list(db.session.scalars(query.order_by(Location.name)))


# --- the day list ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskRow:
    booking: Booking
    services: str
    fee: fees.DeskFee | None = None  # None: the payments service is off, the desk shows no fee column


@dataclass(frozen=True)
class DayList:
    location: Location
    day: date
    counters: list[str]
    rows: list[DeskRow]


def service_names(bookings: list[Booking]) -> dict[int, str]:
    """'2 × Reisepass, Meldebescheinigung' per booking id, in one query for all names."""
    ids = {item.catalogue_service_id for b in bookings for item in b.items}
    names: dict[int, str] = {}
    if ids:
        query = sa.select(CatalogueService.id, CatalogueService.name).where(CatalogueService.id.in_(ids))
        names = {row.id: row.name for row in db.session.execute(query)}
    return {
        b.id: ", ".join(
            (f"{i.quantity} × " if i.quantity > 1 else "") + names.get(i.catalogue_service_id, "?") for i in b.items
        )
        for b in bookings
    }


def day_list(actor: Actor, location_id: int, day: date, *, counter: str | None = None) -> DayList:
    """Every booking of that local day (by start time), walk-ins included; optionally one counter's only."""
    location, settings = desk_location(actor, location_id)
    start, end = day_bounds(day)
    query = (
        sa.select(Booking)
        .options(selectinload(Booking.items))
        .where(Booking.location_id == location_id, Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at, Booking.queue_number, Booking.id)
    )
    if counter:
        query = query.where(Booking.counter == counter)
    bookings = list(db.session.scalars(query))
    names = service_names(bookings)
    fee_states = fees.desk_fees(bookings)
    rows = [DeskRow(b, names[b.id], fee_states.get(b.id)) for b in bookings]
    return DayList(location, day, counter_labels(settings.counters), rows)


# --- check-in, call, served, no-show ---------------------------------------------------------------------


def _assign_queue_number(booking: Booking, day: date) -> int:
    """The next number of the location that day. Two desks may take the same number at once; the unique
    (location, day, number) key refuses the second, which retries in a savepoint with the next number."""
    for _attempt in range(QUEUE_RETRIES):
        latest = db.session.scalar(
            sa.select(sa.func.max(Booking.queue_number)).where(
                Booking.location_id == booking.location_id, Booking.queue_day == day
            )
        )
        number = (latest or 0) + 1
        try:
            with db.session.begin_nested():
                booking.queue_day = day
                booking.queue_number = number
                db.session.flush()
        except IntegrityError:
            continue
        return number
    raise BookingError(
        "reference", str(_l("Die Wartenummer konnte nicht vergeben werden. Bitte erneut versuchen.")), "busy"
    )


def normalise_reference(text: str) -> str:
    # Scanners and people type spaces or lower case; references are upper case without spaces.
    return "".join(text.split()).upper()


def _check_in_refusal(booking: Booking | None, location: Location, today: date) -> tuple[str, Any] | None:
    """Why this booking cannot check in here today, as (code, message); None when it can."""
    if booking is None or booking.location_id != location.id:
        return "unknown", _l("Zu dieser Vorgangsnummer gibt es hier keinen Termin.")
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.RELEASED):
        return "cancelled", _l("Dieser Termin wurde abgesagt oder ist verfallen.")
    if booking.status in (BookingStatus.CHECKED_IN, BookingStatus.CALLED, BookingStatus.SERVED):
        return "already", _l("Dieser Termin ist bereits angemeldet (Wartenummer %(n)s).", n=booking.queue_number)
    if booking.status not in (BookingStatus.RESERVED, BookingStatus.CONFIRMED):
        return "status", _l("Dieser Termin kann nicht angemeldet werden.")
    day = local_day(booking.starts_at)
    if day != today:
        return "other_day", _l("Dieser Termin ist nicht heute, sondern am %(date)s.", date=day.strftime("%d.%m.%Y"))
    return None


def check_in(actor: Actor, location_id: int, reference: str, *, now: datetime | None = None) -> Booking:
    """Check a booked visitor in by reference: status checked_in and the next queue number of the day."""
    now = now or utcnow()
    location, _settings_row = desk_location(actor, location_id)
    reference = normalise_reference(reference)
    with transaction():
        booking = (
            db.session.scalar(sa.select(Booking).where(Booking.reference == reference).with_for_update())
            if reference
            else None
        )
        today = local_day(now)
        refusal = _check_in_refusal(booking, location, today)
        if refusal is not None:
            raise BookingError("reference", str(refusal[1]), refusal[0])
        assert booking is not None
        booking.status = BookingStatus.CHECKED_IN
        booking.checked_in_at = now
        db.session.flush()  # opens the transaction on SQLite too, before the savepoint
        number = _assign_queue_number(booking, today)
        audit.record(
            "appointment.checked_in",
            actor,
            target=booking,
            subject_user_id=booking.user_id,
            location_id=location.id,
            queue_number=number,
        )
    return booking


def call_next(actor: Actor, location_id: int, counter: str, *, now: datetime | None = None) -> Booking | None:
    """Call the longest-waiting checked-in visitor of today to `counter`; None when nobody waits.

    Two desks pressing at once: the conditional update lets exactly one of them take each visitor."""
    now = now or utcnow()
    location, settings = desk_location(actor, location_id)
    if counter not in counter_labels(settings.counters):
        raise BookingError("counter", str(_l("Wählen Sie Ihren Schalter.")), "counter")
    with transaction():
        waiting = db.session.scalars(
            sa.select(Booking.id)
            .where(
                Booking.location_id == location.id,
                Booking.queue_day == local_day(now),
                Booking.status == BookingStatus.CHECKED_IN,
            )
            .order_by(Booking.checked_in_at, Booking.queue_number)
            .limit(QUEUE_RETRIES)
        ).all()
        for booking_id in waiting:
            taken = db.session.execute(
                sa.update(Booking)
                .where(Booking.id == booking_id, Booking.status == BookingStatus.CHECKED_IN)
                .values(status=BookingStatus.CALLED, called_at=now, counter=counter)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            booking = db.session.get(Booking, booking_id)
            assert booking is not None
            db.session.refresh(booking)
            audit.record(
                "appointment.called",
                actor,
                target=booking,
                subject_user_id=booking.user_id,
                location_id=location.id,
                queue_number=booking.queue_number,
                counter=counter,
            )
            return booking
    return None


def _desk_booking(location: Location, booking_id: int) -> Booking:
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id).with_for_update())
    if booking is None or booking.location_id != location.id:
        raise NotFound()
    return booking


def mark_served(actor: Actor, location_id: int, booking_id: int, *, now: datetime | None = None) -> Booking:
    """A visitor who checked in (and usually was called) has been served."""
    now = now or utcnow()
    location, _settings_row = desk_location(actor, location_id)
    with transaction():
        booking = _desk_booking(location, booking_id)
        if booking.status not in (BookingStatus.CHECKED_IN, BookingStatus.CALLED):
            raise BookingError(
                "booking", str(_l("Nur angemeldete oder aufgerufene Besuche können erledigt werden.")), "status"
            )
        if booking.called_at is None:
            booking.called_at = now
        booking.status = BookingStatus.SERVED
        booking.served_at = now
        audit.record(
            "appointment.served", actor, target=booking, subject_user_id=booking.user_id, location_id=location.id
        )
    return booking


def mark_no_show(actor: Actor, location_id: int, booking_id: int, *, now: datetime | None = None) -> Booking:
    """A booked visitor whose time has passed and who never checked in. Their seats stay claimed: the time
    is gone anyway, and the statistics count the seat-minutes as booked."""
    now = now or utcnow()
    location, _settings_row = desk_location(actor, location_id)
    with transaction():
        booking = _desk_booking(location, booking_id)
        if booking.status not in (BookingStatus.RESERVED, BookingStatus.CONFIRMED) or booking.checked_in_at:
            raise BookingError(
                "booking",
                str(_l("Nur gebuchte, nicht angemeldete Termine können als nicht erschienen gelten.")),
                "status",
            )
        if as_utc(booking.starts_at) > now:
            raise BookingError("booking", str(_l("Der Termin hat noch nicht begonnen.")), "not_started")
        booking.status = BookingStatus.NO_SHOW
        booking.no_show_at = now
        audit.record(
            "appointment.no_show", actor, target=booking, subject_user_id=booking.user_id, location_id=location.id
        )
    return booking


# --- walk-ins --------------------------------------------------------------------------------------------


def offered_services(location_id: int) -> list[tuple[int, str, int]]:
    """(catalogue service id, name, minutes) of the active services a location offers, by name."""
    rows = db.session.execute(
        sa.select(CatalogueService.id, CatalogueService.name, OfferedService.duration_minutes)
        .join(OfferedService, OfferedService.catalogue_service_id == CatalogueService.id)
        .where(OfferedService.location_id == location_id, OfferedService.active, CatalogueService.active)
        .order_by(CatalogueService.name)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def walk_in(
    actor: Actor, location_id: int, *, service_ids: list[int], name: str = "", now: datetime | None = None
) -> Booking:
    """A visitor without appointment: a queue number now. Walk-ins claim no seats; they only queue."""
    now = now or utcnow()
    location, _settings_row = desk_location(actor, location_id)
    durations = {sid: minutes for sid, _name, minutes in offered_services(location.id)}
    chosen = sorted(set(service_ids))
    if not chosen:
        raise BookingError("services", str(_l("Wählen Sie mindestens eine Leistung.")), "required")
    if any(sid not in durations for sid in chosen):
        raise BookingError("services", str(_l("Diese Leistung wird hier nicht angeboten.")), "not_offered")
    minutes = sum(durations[sid] for sid in chosen)
    with transaction():
        booking = Booking(
            uid=f"{uuid.uuid4()}@stadtportal",
            manage_token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),  # never mailed
            location_id=location.id,
            kind=BookingKind.WALK_IN,
            status=BookingStatus.CHECKED_IN,
            starts_at=now,
            ends_at=now + timedelta(minutes=minutes),
            name=name.strip(),
            checked_in_at=now,
            items=[
                BookingItem(catalogue_service_id=sid, quantity=1, duration_minutes=durations[sid]) for sid in chosen
            ],
        )
        db.session.add(booking)
        db.session.flush()
        number = _assign_queue_number(booking, local_day(now))
        audit.record("appointment.walk_in", actor, target=booking, location_id=location.id, queue_number=number)
    return booking


# --- the waiting-room display ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallDisplay:
    location_name: str
    called: list[tuple[int, str]]  # (queue number, counter), the latest call first
    waiting: list[int]


def call_display(location_id: int, *, now: datetime | None = None) -> CallDisplay:
    """What the waiting room may see: numbers and counters, never names or references."""
    location, _settings_row = _settings(location_id)
    today = local_day(now or utcnow())
    rows = db.session.execute(
        sa.select(Booking.queue_number, Booking.counter, Booking.status)
        .where(
            Booking.location_id == location.id,
            Booking.queue_day == today,
            Booking.status.in_((BookingStatus.CALLED, BookingStatus.CHECKED_IN)),
        )
        .order_by(Booking.called_at.desc(), Booking.queue_number)
    ).all()
    called = [(r.queue_number, r.counter or "") for r in rows if r.status == BookingStatus.CALLED][:DISPLAY_CALLED]
    waiting = sorted(r.queue_number for r in rows if r.status == BookingStatus.CHECKED_IN)
    return CallDisplay(location.name, called, waiting)
