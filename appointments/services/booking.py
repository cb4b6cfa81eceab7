"""Holding, confirming, moving and cancelling bookings; releasing those not confirmed in time.

Each public function is one use case in one transaction: the booking, its seat claims, the audit event and
the citizen's mail (with its iCalendar file) commit together or not at all. Seat conflicts are settled by
the database (see booking_seats). Listeners to freed seats (the waitlist) run after the commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

import appointments.actions_booking  # noqa: F401  (declares the audit actions)
from appointments.errors import BookingError, NotFound, SlotTaken
from appointments.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingKind,
    BookingStatus,
    LocationSettings,
    SeatClaim,
)
from appointments.services import (
    antiabuse,
    availability,
    booking_mail,
    booking_rows,
    booking_seats,
    case_links,
    fee_payments,
)
from appointments.services.booking_input import clean_contact
from appointments.services.events import on_seats_freed
from portal.actors import SYSTEM, Actor
from portal.audit import services as audit
from portal.departments.models import Location
from portal.extensions import db
from portal.timeutil import BERLIN, as_utc, utcnow
from portal.transaction import transaction

Items = Sequence[tuple[int, int]]
STAFF_ROLES = ("clerk", "department_admin")


@dataclass(frozen=True)
class HeldBooking:
    booking: Booking
    manage_token: str  # in clear only here and in the mail; the database keeps its SHA-256


class _NoSeatError(Exception):
    """Internal: no seat left; turned into SlotTaken after the rollback, when nearest times can be read."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_act_for_location(actor: Actor, location_id: int) -> bool:
    """Staff of the location's department (or platform admins): may book internally and cancel late."""
    if actor.has_role("platform_admin"):
        return True
    location = db.session.get(Location, location_id)
    return location is not None and any(actor.has_role(r, location.department_id) for r in STAFF_ROLES)


def _settings(location_id: int) -> LocationSettings:
    settings = db.session.get(LocationSettings, location_id)
    if settings is None or not settings.active:
        raise BookingError("location", _("An diesem Standort können keine Termine gebucht werden."), "unknown")
    return settings


def _audit(action: str, actor: Actor, booking: Booking, **details: Any) -> None:
    audit.record(action, actor, target=booking, subject_user_id=booking.user_id, reference=booking.reference, **details)


def _announce_release(booking: Booking, reason: str) -> None:
    _announce_releases([booking], reason)


def _announce_releases(bookings: Sequence[Booking], reason: str) -> None:
    """Audit and mail the release of held bookings; first their payment orders are settled (the city
    released them, so a fee already paid comes back), all before the first audit event (lock order)."""
    settled = fee_payments.settle_cancellations(SYSTEM, bookings, by_city=True)
    for booking in bookings:
        _audit("appointment.released", SYSTEM, booking, reason=reason)
        booking_mail.send(booking, "appointment_released", method="CANCEL", fee=settled.get(booking.id))


def _verified_address(actor: Actor, email: str | None) -> bool:
    """Whether the booking's address is the signed-in person's own, already verified one. The mailed
    confirmation only proves that the address is reachable and the booker's; the account has proved both."""
    user = actor.user
    return (
        user is not None
        and user.email_verified_at is not None
        and email is not None
        and user.email.strip().casefold() == email.strip().casefold()
    )


def hold_booking(
    actor: Actor,
    *,
    location_id: int,
    items: Items,
    start: datetime,
    name: str,
    email: str | None,
    phone: str | None = None,
    language: str = "de",
    kind: str = BookingKind.ONLINE,
    user_id: int | None = None,
    captcha: str | None = None,
    payment: str | None = None,
    case_key: str | None = None,
    now: datetime | None = None,
) -> HeldBooking:
    """Hold a seat at `start` for the visit `items` and mail the citizen (confirm link, manage link, ICS).

    When the services carry a fee (and the payments service is on), `payment` says how it is paid: "online"
    makes the payment order in this same transaction, "counter" (or None) leaves it to the desk; see
    fee_payments.attach_fee. `case_key` links the booking to a case of another service the booker may see
    (services/case_links.py), such as the advisory appointment for a permit application.

    BookingError names the field that is wrong; SlotTaken says the seat went to someone else. In both cases
    nothing is held: no booking, no claim, no payment order, no mail.
    """
    now = as_utc(now) if now else utcnow()
    online = kind == BookingKind.ONLINE
    if kind not in {k.value for k in BookingKind}:
        raise BookingError("kind", _("Unbekannte Buchungsart."), "invalid")
    if not online and not may_act_for_location(actor, location_id):
        raise BookingError("kind", _("Nur Mitarbeitende des Standorts dürfen so buchen."), "forbidden")
    contact = clean_contact(name, email, phone, language, email_required=online)
    # Booked while acting for a business: the booking belongs to it (current_actor re-checks the membership).
    organisation_id = actor.organisation_id if online and actor.user is not None else None
    items = [(int(service_id), int(quantity)) for service_id, quantity in items]
    if case_key is not None and (not online or case_links.resolve(actor, case_key) is None):
        raise BookingError("case", _("Der Antrag, zu dem der Termin gehören soll, ist nicht Ihrer."), "invalid")
    start = as_utc(start) if start.tzinfo else start  # check_bookable refuses naive times with a field error
    token = secrets.token_urlsafe(32)
    try:
        with transaction():
            settings = _settings(location_id)
            duration = availability.check_bookable(location_id, items, start, now=now, include_held_back=not online)
            if online:
                antiabuse.check_captcha(settings, captcha)
                assert contact.email is not None
                antiabuse.check_open_limit(settings, contact.email, now)
            confirm_by = None
            if online and settings.confirm_within_minutes and not _verified_address(actor, contact.email):
                confirm_by = min(now + timedelta(minutes=settings.confirm_within_minutes), start)
            booking = booking_rows.add_booking(
                location_id,
                start,
                duration,
                items,
                contact,
                now,
                manage_token_hash=token_hash(token),
                user_id=user_id,
                organisation_id=organisation_id,
                kind=str(kind),
                status=BookingStatus.RESERVED if confirm_by else BookingStatus.CONFIRMED,
                confirm_by=confirm_by,
                confirmed_at=None if confirm_by else now,
            )
            booking.case_key = case_key
            units = availability.claim_units(location_id, start, duration)
            seat, released = booking_seats.claim_seat(
                booking, units, booking_seats.seats_for(settings, str(kind)), now=now, expires_at=confirm_by
            )
            if seat is None:
                raise _NoSeatError()
            _announce_releases(released, "not_confirmed")
            fee = fee_payments.attach_fee(actor, booking, items, payment)
            _audit(
                "appointment.booked",
                actor,
                booking,
                location_id=location_id,
                starts_at=start.isoformat(),
                status=booking.status,
                kind=str(kind),
                **(
                    {"confirmed_by": "verified_account"}
                    if online and not confirm_by and settings.confirm_within_minutes
                    else {}
                ),
                items=[[service_id, quantity] for service_id, quantity in items],
                **({"organisation_id": organisation_id} if organisation_id is not None else {}),
                **({"case": case_key} if case_key is not None else {}),
                **({"fee_cents": fee.amount_cents, "payment": fee.method} if fee is not None else {}),
            )
            booking_mail.send(
                booking,
                "appointment_booked",
                token=token,
                payment_link=fee_payments.payment_link(booking) if fee is not None and not confirm_by else None,
            )
    except _NoSeatError:
        raise SlotTaken(start, nearest=availability.nearest_free(location_id, items, start, now=now)) from None
    return HeldBooking(booking, token)


def find_booking(reference: str, token: str | None) -> Booking:
    """The booking the mailed link points at; NotFound for an unknown reference and a wrong token alike."""
    booking = db.session.execute(sa.select(Booking).where(Booking.reference == reference)).scalar_one_or_none()
    # Compare even when the reference is unknown, so timing does not tell which of the two was wrong.
    expected = booking.manage_token_hash if booking is not None else "0" * 64
    if not token or not hmac.compare_digest(expected, token_hash(token)) or booking is None:
        raise NotFound()
    return booking


def _take(booking_id: int, statuses: Sequence[str]) -> Booking | None:
    """Raise SEQUENCE if the booking is (still) in one of `statuses`; the booking, or None if it is not.

    The conditional UPDATE is the guard against a concurrent change (a release by the job, a cancel in another
    tab): it takes the row lock on PostgreSQL and the write lock on SQLite before anything else is written,
    and it re-checks the status under that lock.
    """
    result = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking_id, Booking.status.in_([str(s) for s in statuses]))
        .values(sequence=Booking.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return db.session.get(Booking, booking_id, populate_existing=True)


CONFIRMED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.CALLED)


def confirm_booking(reference: str, token: str, *, now: datetime | None = None) -> Booking:
    """Confirm a reserved (or offered) booking by its mailed link; confirming twice is harmless.

    Past its deadline the booking is released instead, and BookingError(code="expired") says so.
    """
    now = as_utc(now) if now else utcnow()
    freed: list[datetime] = []
    expired = False
    with transaction():
        booking = find_booking(reference, token)
        if booking.status in CONFIRMED_STATUSES:
            return booking
        if booking.status in booking_seats.HELD_STATUSES and booking.confirm_by and booking.confirm_by <= now:
            units = _claim_units_of(booking)
            released = booking_seats.release_rows([booking.id], now)
            _announce_releases(released, "not_confirmed")
            freed, expired = (units, True) if released else ([], False)
            fresh = None
        else:
            fresh = _take(booking.id, booking_seats.HELD_STATUSES)
        if fresh is not None:
            fresh.status = BookingStatus.CONFIRMED
            fresh.confirmed_at = now
            db.session.execute(sa.update(SeatClaim).where(SeatClaim.booking_id == fresh.id).values(expires_at=None))
            _audit("appointment.confirmed", Actor("anonymous", label="manage link"), fresh)
            booking_mail.send(
                fresh, "appointment_confirmed", token=token, payment_link=fee_payments.payment_link(fresh)
            )
            return fresh
        if not expired:
            # Changed meanwhile: by a second click on the link (fine), or cancelled/released (too late).
            current = db.session.get(Booking, booking.id, populate_existing=True)
            if current is not None and current.status in CONFIRMED_STATUSES:
                return current
            raise BookingError("booking", _("Dieser Termin kann nicht mehr bestätigt werden."), "not_confirmable")
    on_seats_freed(booking.location_id, freed)
    raise BookingError(
        "booking", _("Die Frist zur Bestätigung ist abgelaufen; der Termin wurde freigegeben."), "expired"
    )


def _claim_units_of(booking: Booking) -> list[datetime]:
    return sorted(
        db.session.execute(sa.select(SeatClaim.unit_start).where(SeatClaim.booking_id == booking.id)).scalars()
    )


def cancel_booking(
    actor: Actor, booking: Booking, *, reason: str | None = None, now: datetime | None = None
) -> Booking:
    """Cancel and give the seats back (after the location's cool-down, if it has one).

    Citizens may cancel until the appointment starts; staff of the location also afterwards. A fee paid
    online is refunded as the booking's refund policy says (asked for here, decided by the treasury); an
    order not paid yet is cancelled (fee_payments.settle_cancellations).
    """
    now = as_utc(now) if now else utcnow()
    with transaction():
        fresh = _take(booking.id, ACTIVE_STATUSES)
        if fresh is None:
            raise BookingError("booking", _("Dieser Termin ist nicht mehr aktiv."), "not_active")
        booking = fresh
        if booking.starts_at <= now and not may_act_for_location(actor, booking.location_id):
            raise BookingError(
                "booking", _("Der Termin hat bereits begonnen und kann nicht mehr abgesagt werden."), "started"
            )
        settings = db.session.get(LocationSettings, booking.location_id)
        cooldown = settings.cancel_cooldown_minutes if settings is not None else 0
        hold_until = now + timedelta(minutes=cooldown) if cooldown > 0 else None
        freed = booking_seats.free_claims(booking, hold_until=hold_until)
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
        booking.cancel_reason = (reason or "")[:200] or None
        settled = fee_payments.settle_cancellations(actor, [booking], by_city=False, now=now)
        _audit("appointment.cancelled", actor, booking, reason=booking.cancel_reason or "")
        booking_mail.send(booking, "appointment_cancelled", method="CANCEL", fee=settled.get(booking.id))
    on_seats_freed(booking.location_id, freed)
    return booking


def reschedule_booking(actor: Actor, booking: Booking, new_start: datetime, *, now: datetime | None = None) -> Booking:
    """Move the booking to `new_start` (until the appointment starts), keeping its UID, raising SEQUENCE.

    The old seats are dropped and the new ones claimed in the same transaction: if the new time is taken, the
    rollback restores the old claims, so the citizen never loses the appointment they had. Dropping first
    (rather than claiming first) lets a move by less than the visit's length reuse its own units.
    """
    now = as_utc(now) if now else utcnow()
    new_start = as_utc(new_start) if new_start.tzinfo else new_start
    try:
        with transaction():
            fresh = _take(booking.id, (*booking_seats.HELD_STATUSES, BookingStatus.CONFIRMED))
            if fresh is None:
                raise BookingError("booking", _("Dieser Termin kann nicht mehr verschoben werden."), "not_active")
            booking = fresh
            if booking.starts_at <= now:
                raise BookingError(
                    "start", _("Der Termin hat bereits begonnen und kann nicht mehr verschoben werden."), "started"
                )
            if new_start == booking.starts_at:
                raise BookingError("start", _("Bitte wählen Sie eine andere Uhrzeit als die bisherige."), "unchanged")
            items = [(item.catalogue_service_id, item.quantity) for item in booking.items]
            online = booking.kind == BookingKind.ONLINE
            duration = availability.check_bookable(
                booking.location_id, items, new_start, now=now, include_held_back=not online
            )
            settings = _settings(booking.location_id)
            old_units = _claim_units_of(booking)
            db.session.execute(sa.delete(SeatClaim).where(SeatClaim.booking_id == booking.id))
            units = availability.claim_units(booking.location_id, new_start, duration)
            expires_at = booking.confirm_by if booking.status in booking_seats.HELD_STATUSES else None
            seat, released = booking_seats.claim_seat(
                booking, units, booking_seats.seats_for(settings, booking.kind), now=now, expires_at=expires_at
            )
            if seat is None:
                raise _NoSeatError()
            _announce_releases(released, "not_confirmed")
            old_start = booking.starts_at
            booking.starts_at = new_start
            booking.ends_at = new_start + timedelta(minutes=duration)
            # The reminder and the "I'm coming" answer were about the old time.
            booking.reminder_sent_at = None
            booking.attendance_confirmed_at = None
            _audit(
                "appointment.rescheduled",
                actor,
                booking,
                **{"from": old_start.isoformat(), "to": new_start.isoformat()},
            )
            booking_mail.send(booking, "appointment_rescheduled", old_starts=old_start.astimezone(BERLIN))
    except _NoSeatError:
        raise SlotTaken(
            new_start, nearest=availability.nearest_free(booking.location_id, items, new_start, now=now)
        ) from None
    on_seats_freed(booking.location_id, sorted(set(old_units) - set(units)))
    return booking


def release_expired(now: datetime | None = None, *, progress: Callable[[Booking], None] | None = None) -> int:
    """Release reserved bookings not confirmed by `confirm_by` and waitlist offers past their deadline
    (an offered booking's `confirm_by` is its offer deadline); returns how many were released.

    One transaction per booking, so one bad row cannot hold back the rest; a booking confirmed (or released
    by a concurrent booking) in the meantime is skipped by the conditional update. Cool-down holds that have
    run out are deleted on the way (they no longer count anyway; this only keeps the table small).
    """
    now = as_utc(now) if now else utcnow()
    due = db.session.execute(
        sa.select(Booking.id, Booking.status)
        .where(
            Booking.status.in_([s.value for s in booking_seats.HELD_STATUSES]),
            Booking.confirm_by.is_not(None),
            Booking.confirm_by <= now,
        )
        .order_by(Booking.id)
    ).all()
    db.session.rollback()
    count = 0
    for booking_id, status in due:
        with transaction():
            freed = sorted(
                db.session.execute(sa.select(SeatClaim.unit_start).where(SeatClaim.booking_id == booking_id)).scalars()
            )
            released = booking_seats.release_rows([booking_id], now)
            _announce_releases(released, "offer_expired" if status == BookingStatus.OFFERED else "not_confirmed")
        for booking in released:
            count += 1
            on_seats_freed(booking.location_id, freed)
            if progress is not None:
                progress(booking)
    with transaction():
        db.session.execute(
            sa.delete(SeatClaim).where(
                SeatClaim.booking_id.is_(None), SeatClaim.hold_until.is_not(None), SeatClaim.hold_until <= now
            )
        )
    return count
