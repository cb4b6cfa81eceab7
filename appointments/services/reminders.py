"""Reminder mails before confirmed appointments, with one-click "Ich komme" and "Termin freigeben".

The links need a secret, but the booking keeps only the hash of its manage token. So the reminder links carry
their own purpose-bound token: an HMAC of (booking UID, purpose) under SECRET_KEY. No column is needed, a
link for "komme" cannot free the slot, and the token stays valid across a reschedule (the UID is stable).
The pages behind the links change nothing on GET (mail scanners follow links): each shows one button.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

import appointments.actions_waitlist  # noqa: F401  (declares the audit actions)
from appointments.errors import NotFound
from appointments.models import Booking, BookingStatus, LocationSettings
from appointments.services import booking as booking_service
from appointments.services import waitlist_mail
from portal.actors import SYSTEM, Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction

ATTEND = "reminder:attend"
RELEASE = "reminder:release"
PURPOSES = {"komme": ATTEND, "freigeben": RELEASE}
LINK_ACTOR = Actor("anonymous", label="reminder link")


def reminder_token(booking: Booking, purpose: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, f"{booking.uid}\x00{purpose}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def find_for_reminder(reference: str, token: str, purpose: str) -> Booking:
    """The booking a reminder link points at; NotFound for an unknown reference or a wrong token alike."""
    booking = db.session.execute(sa.select(Booking).where(Booking.reference == reference)).scalar_one_or_none()
    expected = reminder_token(booking, purpose) if booking is not None else "-" * 43
    if not hmac.compare_digest(expected.encode(), (token or "").encode()) or booking is None:
        raise NotFound()
    return booking


def _audit(action: str, actor: Actor, booking: Booking) -> None:
    audit.record(action, actor, target=booking, subject_user_id=booking.user_id, reference=booking.reference)


def due(now: datetime | None = None) -> list[int]:
    """Confirmed bookings not yet reminded whose start lies within their location's reminder_hours."""
    now = as_utc(now) if now else utcnow()
    widest = db.session.execute(sa.select(sa.func.max(LocationSettings.reminder_hours))).scalar_one() or 0
    if widest <= 0:
        return []
    rows = db.session.execute(
        sa.select(Booking.id, Booking.starts_at, LocationSettings.reminder_hours)
        .join(LocationSettings, LocationSettings.location_id == Booking.location_id)
        .where(
            Booking.status == BookingStatus.CONFIRMED.value,
            Booking.reminder_sent_at.is_(None),
            Booking.email.is_not(None),
            Booking.starts_at > now,
            Booking.starts_at <= now + timedelta(hours=widest),
        )
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    return [
        row.id
        for row in rows
        if row.reminder_hours > 0 and as_utc(row.starts_at) <= now + timedelta(hours=row.reminder_hours)
    ]


def send_reminders(now: datetime | None = None, *, progress: Callable[[Booking], None] | None = None) -> int:
    """Send each due reminder once (one transaction per booking); returns how many were sent."""
    now = as_utc(now) if now else utcnow()
    ids = due(now)
    db.session.rollback()
    count = 0
    for booking_id in ids:
        with transaction():
            # Conditional: two runs at once (or a cancellation meanwhile) send nothing twice.
            marked = db.session.execute(
                sa.update(Booking)
                .where(
                    Booking.id == booking_id,
                    Booking.reminder_sent_at.is_(None),
                    Booking.status == BookingStatus.CONFIRMED.value,
                )
                .values(reminder_sent_at=now)
                .execution_options(synchronize_session=False)
            )
            if not marked.rowcount:  # type: ignore[attr-defined]
                continue
            booking = db.session.get(Booking, booking_id, populate_existing=True)
            assert booking is not None
            _audit("appointment.reminder_sent", SYSTEM, booking)
            waitlist_mail.reminder(booking, reminder_token(booking, ATTEND), reminder_token(booking, RELEASE))
        count += 1
        if progress is not None:
            progress(booking)
    return count


def attendable(booking: Booking, now: datetime | None = None) -> bool:
    now = as_utc(now) if now else utcnow()
    return booking.status == BookingStatus.CONFIRMED and as_utc(booking.starts_at) > now


def confirm_attendance(reference: str, token: str, *, now: datetime | None = None) -> Booking:
    """ "Ich komme": note it once (no-show planning); clicking again or after the start changes nothing."""
    now = as_utc(now) if now else utcnow()
    with transaction():
        booking = find_for_reminder(reference, token, ATTEND)
        if not attendable(booking, now) or booking.attendance_confirmed_at is not None:
            return booking
        marked = db.session.execute(
            sa.update(Booking)
            .where(
                Booking.id == booking.id,
                Booking.attendance_confirmed_at.is_(None),
                Booking.status == BookingStatus.CONFIRMED.value,
            )
            .values(attendance_confirmed_at=now)
            .execution_options(synchronize_session=False)
        )
        booking = db.session.get(Booking, booking.id, populate_existing=True)  # type: ignore[assignment]
        if marked.rowcount:  # type: ignore[attr-defined]
            _audit("appointment.attendance_confirmed", LINK_ACTOR, booking)
    return booking


def release_by_reminder(reference: str, token: str, *, now: datetime | None = None) -> Booking:
    """ "Termin freigeben": the ordinary cancellation (audit, mail with METHOD:CANCEL, seat to the waitlist)."""
    booking = find_for_reminder(reference, token, RELEASE)
    return booking_service.cancel_booking(LINK_ACTOR, booking, reason="reminder", now=now)
