"""The bookings a closure hits: shown when the closure is added, and cancelled with notification on request.

Adding a closure (config.add_closure) stops new bookings on its days but leaves booked ones in place; this is
what the admin sees next: the bookings in the closed days, and a button that cancels them all, each citizen
mailed with the reason, the calendar file that removes the appointment and a link to book again (the same
mail as a cancelled day at the desk). The city cancels, so fees paid online are refunded. One transaction.
"""

from __future__ import annotations

from datetime import datetime

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
from appointments.services.desk import day_bounds, may_close_days
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Location
from portal.extensions import db
from portal.mail.services import Attachment, enqueue
from portal.timeutil import BERLIN, as_utc, utcnow
from portal.transaction import transaction


def _closure(location: Location, closure_id: int) -> Closure:
    closure = db.session.get(Closure, closure_id)
    if closure is None or closure.location_id != location.id:
        raise NotFound()
    return closure


def _query(location: Location, closure: Closure, now: datetime) -> sa.Select:
    start = max(day_bounds(closure.first_day)[0], now)  # what already began is the desk's business
    end = day_bounds(closure.last_day)[1]
    return (
        sa.select(Booking)
        .options(selectinload(Booking.items))
        .where(
            Booking.location_id == location.id,
            Booking.starts_at >= start,
            Booking.starts_at < end,
            Booking.status.in_(ACTIVE_STATUSES),
        )
        .order_by(Booking.starts_at)
    )


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
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise BookingError(
            "reason", str(_l("Geben Sie einen Grund an; er steht in der Nachricht an die Betroffenen.")), "required"
        )
    rebook = current_app.config["BASE_URL"].rstrip("/") + url_for("appointments.index")
    with transaction():
        bookings = list(db.session.scalars(_query(location, closure, now).with_for_update()))
        for booking in bookings:
            free_claims(booking, hold_until=None)  # the days are closed: nobody can book these seats
            booking.status = BookingStatus.CANCELLED
            booking.cancelled_at = now
            booking.cancel_reason = reason
            booking.sequence += 1
        settled = fee_payments.settle_cancellations(actor, bookings, by_city=True, now=now)
        for booking in bookings:
            audit.record(
                "appointment.closure_cancelled",
                actor,
                target=booking,
                subject_user_id=booking.user_id,
                location_id=location.id,
                first_day=closure.first_day.isoformat(),
                last_day=closure.last_day.isoformat(),
                reason=reason,
                reference=booking.reference,
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
