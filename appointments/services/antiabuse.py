"""Rules against bots and hoarding: a proof-of-work captcha and a cap on open bookings per email address."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from appointments.errors import BookingError
from appointments.models import ACTIVE_STATUSES, Booking, LocationSettings
from appointments.services import captcha as altcha_captcha
from portal.extensions import db


def check_captcha(settings: LocationSettings, payload: str | None) -> None:
    if not settings.captcha_required:
        return
    if not payload:
        raise BookingError("captcha", _("Bitte bestätigen Sie, dass Sie kein Roboter sind."), "captcha_missing")
    if not altcha_captcha.verify(payload):
        raise BookingError(
            "captcha", _("Die Prüfung ist abgelaufen oder ungültig. Bitte versuchen Sie es erneut."), "captcha_invalid"
        )


def open_bookings(location_id: int, email: str, now: datetime) -> int:
    """Bookings for this address at this location that hold a seat and have not ended yet."""
    return int(
        db.session.execute(
            sa.select(sa.func.count(Booking.id)).where(
                Booking.location_id == location_id,
                sa.func.lower(Booking.email) == email.lower(),
                Booking.status.in_([s.value for s in ACTIVE_STATUSES]),
                Booking.ends_at > now,
            )
        ).scalar_one()
    )


def _serialise_per_address(email: str) -> None:
    """On PostgreSQL, bookings for one address queue here until the earlier one commits, so two simultaneous
    requests cannot both count "one below the cap". (SQLite serialises writers anyway, though only at the
    first write: there two simultaneous requests of one address may still overshoot the cap by one.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"appointments:email:{email.lower()}"}
        )


def check_open_limit(settings: LocationSettings, email: str, now: datetime) -> None:
    """Refuse another booking when the address already holds the maximum here."""
    _serialise_per_address(email)
    if open_bookings(settings.location_id, email, now) >= settings.max_open_per_email:
        raise BookingError(
            "email",
            _(
                "Für diese E-Mail-Adresse sind hier schon %(count)d Termine offen. Bitte sagen Sie erst einen ab.",
                count=settings.max_open_per_email,
            ),
            "too_many_open",
        )


DEFAULT_BOOKING_LIMIT = "10/hour"


def booking_rate_limit(location_id: int | None) -> str:
    """The per-IP limit on booking requests for a location (its setting, or the default when unknown/invalid)."""
    from limits import parse

    value = None
    if location_id is not None:
        value = db.session.execute(
            sa.select(LocationSettings.booking_rate_limit).where(LocationSettings.location_id == location_id)
        ).scalar_one_or_none()
    try:
        parse(value or DEFAULT_BOOKING_LIMIT)
    except ValueError:
        return DEFAULT_BOOKING_LIMIT
    return value or DEFAULT_BOOKING_LIMIT
