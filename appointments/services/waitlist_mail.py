"""The mails of the waitlist and the reminders, and the links they carry.

Called inside the caller's transaction: the outbox row commits with the change or not at all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from appointments.models import Booking, WaitlistEntry
from appointments.services import booking_mail
from portal.departments.models import Location
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import enqueue
from portal.timeutil import to_berlin


def _base() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def entry_url(entry_id: int, token: str) -> str:
    return f"{_base()}/termine/warteliste/{entry_id}/{token}"


def offer_url(reference: str, token: str) -> str:
    return f"{_base()}/termine/angebot/{reference}/{token}"


def reminder_url(reference: str, token: str, action: str) -> str:
    return f"{_base()}/termine/erinnerung/{reference}/{token}/{action}"


def _booking_context(booking: Booking) -> dict[str, Any]:
    location = db.session.get(Location, booking.location_id)
    return {
        "booking": booking,
        "location": location,
        "services": booking_mail._services(booking),
        "starts": to_berlin(booking.starts_at),
        "ends": to_berlin(booking.ends_at),
    }


def entry_mail(
    entry: WaitlistEntry,
    template: str,
    subject: Any,
    *,
    services: list[str],
    locations: list[str],
    **extra: Any,
) -> OutboxMessage:
    """A mail about the entry itself (joined, ended)."""
    return enqueue(
        entry.email,
        subject,
        template,
        language=entry.language or "de",
        entry=entry,
        services=services,
        locations=locations,
        first_day=entry.first_day,
        last_day=entry.last_day,
        **extra,
    )


def joined(entry: WaitlistEntry, token: str, services: list[str], locations: list[str]) -> OutboxMessage:
    return entry_mail(
        entry,
        "appointment_waitlist_joined",
        _l("Sie stehen auf der Warteliste"),
        services=services,
        locations=locations,
        manage_link=entry_url(entry.id, token),
    )


def ended(entry: WaitlistEntry, reason: str, services: list[str], locations: list[str]) -> OutboxMessage:
    return entry_mail(
        entry,
        "appointment_waitlist_ended",
        _l("Ihr Platz auf der Warteliste ist beendet"),
        services=services,
        locations=locations,
        reason=reason,
    )


def offer(booking: Booking, token: str) -> OutboxMessage | None:
    if not booking.email:
        return None
    return enqueue(
        booking.email,
        _l("Ein Termin ist frei geworden: %(reference)s", reference=booking.reference),
        "appointment_waitlist_offer",
        language=booking.language or "de",
        offer_link=offer_url(booking.reference or "", token),
        deadline=to_berlin(booking.confirm_by) if booking.confirm_by else None,
        **_booking_context(booking),
    )


def reminder(booking: Booking, attend_token: str, release_token: str) -> OutboxMessage | None:
    if not booking.email:
        return None
    reference = booking.reference or ""
    return enqueue(
        booking.email,
        _l("Erinnerung an Ihren Termin %(reference)s", reference=reference),
        "appointment_reminder",
        language=booking.language or "de",
        attend_link=reminder_url(reference, attend_token, "komme"),
        release_link=reminder_url(reference, release_token, "freigeben"),
        **_booking_context(booking),
    )


def day_text(day: date) -> str:
    return day.strftime("%d.%m.%Y")
