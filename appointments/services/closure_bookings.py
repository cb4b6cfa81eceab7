"""Cancelling bookings because the city closes: a whole day at the desk, or the bookings a closure hits.

A department admin may cancel a day at the desk in one go: the day becomes a closure and its bookings are
cancelled. Adding a closure in the configuration (config.add_closure) stops new bookings on its days but
leaves booked ones in place; this is what the admin sees next: the bookings in the closed days, and a button
that cancels them all. Either way each citizen is mailed the reason, the calendar file that removes the
appointment and a link to book again (the same mail), and the city cancels, so fees paid online are refunded
whatever the deadline and open orders are cancelled. One transaction each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

import appointments.actions_desk  # noqa: F401  (declares the audit actions)
from appointments.errors import BookingError
from appointments.ics import booking_calendar
from appointments.models import ACTIVE_STATUSES, Booking, BookingStatus, Closure
from appointments.services import fee_payments
from appointments.services.booking_seats import free_claims
from appointments.services.config import location_for_config
from appointments.services.desk import _settings, day_bounds, local_day, may_close_days
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Location
from portal.extensions import db
from portal.mail.services import Attachment, enqueue
from portal.timeutil import BERLIN, as_utc, utcnow
from portal.transaction import transaction


def _active_between(location: Location, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        Booking.location_id == location.id,
        Booking.starts_at >= start,
        Booking.starts_at < end,
        Booking.status.in_(ACTIVE_STATUSES),
    )


def _bookings_between(location: Location, start: datetime, end: datetime) -> sa.Select:
    return (
        sa.select(Booking)
        .options(selectinload(Booking.items))
        .where(_active_between(location, start, end))
        .order_by(Booking.starts_at)
    )


def _reason_given(reason: str) -> str:
    if not reason:
        raise BookingError(
            "reason", str(_l("Geben Sie einen Grund an; er steht in der Nachricht an die Betroffenen.")), "required"
        )
    return reason


def _cancel_for_the_city(
    actor: Actor,
    location: Location,
    query: sa.Select,
    reason: str,
    *,
    now: datetime,
    action: str,
    details: Callable[[Booking], dict[str, Any]],
) -> int:
    """Cancel the bookings `query` selects (locked), audit each as `action` with `details`, mail each citizen
    with an address; how many were cancelled. Runs inside the caller's transaction."""
    rebook = current_app.config["BASE_URL"].rstrip("/") + url_for("appointments.index")
    bookings = list(db.session.scalars(query.with_for_update()))
    for booking in bookings:
        # No cool-down hold and no waitlist offers: the days are closed, nobody can book these seats.
        free_claims(booking, hold_until=None)
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = reason[:200]
        booking.sequence += 1
    # Every payment order at once, before the first audit event (lock order).
    settled = fee_payments.settle_cancellations(actor, bookings, by_city=True, now=now)
    for booking in bookings:
        audit.record(
            action,
            actor,
            target=booking,
            subject_user_id=booking.user_id,
            location_id=location.id,
            **details(booking),
        )
        if booking.email:
            local = as_utc(booking.starts_at).astimezone(BERLIN)
            enqueue(
                booking.email,
                _l("Ihr Termin am %(date)s fällt aus", date=local.strftime("%d.%m.%Y")),
                "appointment_closed_day",
                language=booking.language,
                attachments=[Attachment("termin.ics", "text/calendar", booking_calendar(booking, "CANCEL"))],
                booking=booking,
                location=location,
                starts_local=local,
                reason=reason,
                rebook_link=rebook,
                fee=settled.get(booking.id),
            )
    return len(bookings)


# --- a closed day at the desk ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCancellation:
    """What cancelling a day would do, shown before it is done."""

    bookings: int  # active bookings that day
    people: int  # persons (a booking's quantity counts several items, but one person comes)
    without_email: int  # of them, not reachable by mail (booked by phone or at the desk): call them


def preview_cancel_day(actor: Actor, location_id: int, day: date, *, now: datetime | None = None) -> DayCancellation:
    """Who would be affected by `cancel_day`, changing nothing; the same checks as cancel_day."""
    now = now or utcnow()
    location, _settings_row = _settings(location_id)
    if not may_close_days(actor, location):
        raise Forbidden()
    if day < local_day(now):
        raise BookingError("day", str(_l("Vergangene Tage können nicht abgesagt werden.")), "past")
    rows = db.session.execute(
        sa.select(Booking.email, sa.func.lower(Booking.name)).where(_active_between(location, *day_bounds(day)))
    ).all()
    people = {(email or "").lower() or f"name:{name}" for email, name in rows}
    return DayCancellation(len(rows), len(people), sum(1 for email, _name in rows if not email))


def cancel_day(actor: Actor, location_id: int, day: date, reason: str, *, now: datetime | None = None) -> int:
    """Close a location for a day: every active booking of that day is cancelled and its seats are freed,
    a Closure is added, each citizen gets a mail with the reason and a link to book again. One transaction.
    The city cancels, so fees paid online are refunded whatever the deadline, open orders are cancelled.
    Returns how many bookings were cancelled."""
    now = now or utcnow()
    location, _settings_row = _settings(location_id)
    if not may_close_days(actor, location):
        raise Forbidden()
    reason = _reason_given(reason.strip())
    if day < local_day(now):
        raise BookingError("day", str(_l("Vergangene Tage können nicht abgesagt werden.")), "past")
    with transaction():
        # The closure first: from here on the slot search treats the day as closed.
        closure = Closure(location_id=location.id, first_day=day, last_day=day, reason=reason[:200])
        db.session.add(closure)
        db.session.flush()
        cancelled = _cancel_for_the_city(
            actor,
            location,
            _bookings_between(location, *day_bounds(day)),
            reason,
            now=now,
            action="appointment.day_cancelled",
            details=lambda _booking: {"day": day.isoformat(), "reason": reason},
        )
        audit.record(
            "appointment.day_cancelled",
            actor,
            target=closure,
            location_id=location.id,
            day=day.isoformat(),
            reason=reason,
            cancelled=cancelled,
        )
    return cancelled


# --- the bookings a closure hits -------------------------------------------------------------------------


def _closure(location: Location, closure_id: int) -> Closure:
    closure = db.session.get(Closure, closure_id)
    if closure is None or closure.location_id != location.id:
        raise NotFound()
    return closure


def _query(location: Location, closure: Closure, now: datetime) -> sa.Select:
    start = max(day_bounds(closure.first_day)[0], now)  # what already began is the desk's business
    return _bookings_between(location, start, day_bounds(closure.last_day)[1])


def affected(actor: Actor, location_id: int, closure_id: int, *, now: datetime | None = None):
    """The closure, its location, the active bookings still ahead in its days, and whether the actor may cancel
    them (department admins, as for closing a day at the desk)."""
    location = location_for_config(actor, location_id)
    closure = _closure(location, closure_id)
    bookings = list(db.session.scalars(_query(location, closure, now or utcnow())))
    return location, closure, bookings, may_close_days(actor, location)


def cancel_affected(
    actor: Actor, location_id: int, closure_id: int, reason: str, *, now: datetime | None = None
) -> int:
    """Cancel every active booking ahead in the closure's days and mail each citizen; how many were cancelled."""
    now = now or utcnow()
    location = location_for_config(actor, location_id)
    if not may_close_days(actor, location):
        raise Forbidden()
    closure = _closure(location, closure_id)
    reason = _reason_given(" ".join(reason.split())[:200])
    with transaction():
        cancelled = _cancel_for_the_city(
            actor,
            location,
            _query(location, closure, now),
            reason,
            now=now,
            action="appointment.closure_cancelled",
            details=lambda booking: {
                "first_day": closure.first_day.isoformat(),
                "last_day": closure.last_day.isoformat(),
                "reason": reason,
                "reference": booking.reference,
            },
        )
    return cancelled
