"""The waitlist: join it, look at or leave one's place, and answer an offer.

Fair allocation when slots are scarce: instead of refreshing the calendar, a citizen joins a list for a visit
(services with quantities), one or more locations and a date range. When a seat frees up it is offered to
the next matching person by mail (waitlist_offers), held for the location's `waitlist_offer_minutes`, then
offered to the next. Every use case is one transaction with its audit event and mail.

Importing this module subscribes the waitlist to booking's SEATS_FREED event.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from appointments.errors import BookingError, NotFound
from appointments.models import Booking, BookingStatus, SeatClaim, WaitlistEntry, WaitlistStatus
from appointments.services import availability, booking_mail, catalogue, waitlist_mail
from appointments.services.booking import find_booking
from appointments.services.booking_input import clean_contact
from appointments.services.waitlist_offers import audit_entry, describe, offer_freed, token_hash
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import BERLIN, as_utc, utcnow
from portal.transaction import transaction

# How far ahead one may wait, and how many places one address may hold at once (bots hoard otherwise).
MAX_RANGE_DAYS = 180
MAX_ACTIVE_PER_EMAIL = 3
LINK_ACTOR = Actor("anonymous", label="waitlist link")
OPEN_STATUSES = (WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value)
LAPSED_OFFER_STATUSES = (BookingStatus.OFFERED.value, BookingStatus.RELEASED.value, BookingStatus.CANCELLED.value)


@dataclass(frozen=True)
class Choice:
    id: int
    name: str
    max_quantity: int = 1
    description: str = ""


@dataclass(frozen=True)
class Choices:
    services: list[Choice]
    locations: list[Choice]


def choices() -> Choices:
    """What one can wait for: the services bookable somewhere and the locations taking appointments."""
    offered = catalogue.offered_services()
    services = [Choice(s.id, s.name, max(o.max_quantity for o in s.offered_at), s.description) for s in offered]
    location_ids = sorted({o.location_id for s in offered for o in s.offered_at})
    names: dict[int, str] = {}
    for service in offered:
        for place in catalogue.locations_offering(service.id):
            names[place.id] = place.name
    locations = sorted((Choice(i, names.get(i, "?")) for i in location_ids), key=lambda c: (c.name, c.id))
    return Choices(services, locations)


@dataclass(frozen=True)
class Joined:
    entry: WaitlistEntry
    token: str  # in clear only here and in the mail


def join_waitlist(
    actor: Actor,
    *,
    items: Sequence[tuple[int, int]],
    location_ids: Sequence[int],
    first_day: date | None,
    last_day: date | None,
    name: str,
    email: str,
    phone: str | None = None,
    language: str = "de",
    user_id: int | None = None,
    now: datetime | None = None,
) -> Joined:
    """Put a person on the list; BookingError names the field that is wrong (nothing is stored then)."""
    now = as_utc(now) if now else utcnow()
    today = now.astimezone(BERLIN).date()
    merged: dict[int, int] = {}
    for service_id, quantity in items:
        merged[int(service_id)] = merged.get(int(service_id), 0) + int(quantity)
    wanted = list(merged.items())
    if not wanted:
        raise BookingError("services", _("Bitte wählen Sie mindestens eine Leistung aus."), "empty")
    places = list(dict.fromkeys(int(i) for i in location_ids))
    if not places:
        raise BookingError("locations", _("Bitte wählen Sie mindestens einen Standort aus."), "empty")
    if first_day is None:
        raise BookingError("first_day", _("Bitte geben Sie ein gültiges Datum an, zum Beispiel 1.12.2026."), "invalid")
    if last_day is None:
        raise BookingError("last_day", _("Bitte geben Sie ein gültiges Datum an, zum Beispiel 1.12.2026."), "invalid")
    if first_day < today:
        raise BookingError("first_day", _("Der erste Tag darf nicht in der Vergangenheit liegen."), "past")
    if last_day < first_day:
        raise BookingError("last_day", _("Der letzte Tag darf nicht vor dem ersten Tag liegen."), "range")
    if last_day > today + timedelta(days=MAX_RANGE_DAYS):
        raise BookingError(
            "last_day", _("Sie können höchstens %(days)d Tage im Voraus warten.", days=MAX_RANGE_DAYS), "horizon"
        )
    contact = clean_contact(name, email, phone, language, email_required=True)
    assert contact.email is not None
    token = secrets.token_urlsafe(32)
    with transaction():
        known = {c.id: c.name for c in choices().locations}
        for location_id in places:
            if location_id not in known:
                raise BookingError("locations", _("Bitte wählen Sie Standorte aus der Liste."), "unknown")
            try:
                availability.duration_for(location_id, wanted)
            except BookingError as refused:
                raise BookingError(
                    "services" if refused.code == "quantity" else "locations",
                    _(
                        "%(location)s: %(reason)s Bitte wählen Sie nur Standorte, die alle Leistungen anbieten.",
                        location=known[location_id],
                        reason=refused.message,
                    )
                    if refused.code != "quantity"
                    else refused.message,
                    refused.code,
                ) from None
        active = db.session.execute(
            sa.select(sa.func.count(WaitlistEntry.id)).where(
                sa.func.lower(WaitlistEntry.email) == contact.email.lower(), WaitlistEntry.status.in_(OPEN_STATUSES)
            )
        ).scalar_one()
        if active >= MAX_ACTIVE_PER_EMAIL:
            raise BookingError(
                "email",
                _("Mit dieser E-Mail-Adresse stehen Sie schon %(n)d-mal auf der Warteliste.", n=active),
                "too_many_open",
            )
        entry = WaitlistEntry(
            token_hash=token_hash(token),
            status=WaitlistStatus.WAITING.value,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            language=contact.language,
            user_id=user_id,
            services=json.dumps([{"id": sid, "quantity": q} for sid, q in wanted]),
            location_ids=",".join(str(i) for i in places),
            first_day=first_day,
            last_day=last_day,
            created_at=now,
        )
        db.session.add(entry)
        db.session.flush()
        audit_entry(
            "appointment.waitlist_joined",
            actor,
            entry,
            location_ids=places,
            first_day=first_day.isoformat(),
            last_day=last_day.isoformat(),
            items=[[sid, q] for sid, q in wanted],
        )
        services, locations = describe(entry)
        waitlist_mail.joined(entry, token, services, locations)
    return Joined(entry, token)


def find_entry(entry_id: int, token: str | None) -> WaitlistEntry:
    """The entry the mailed link points at; NotFound for an unknown id and a wrong token alike."""
    entry = db.session.get(WaitlistEntry, entry_id)
    expected = entry.token_hash if entry is not None else "0" * 64
    if not token or not hmac.compare_digest(expected, token_hash(token)) or entry is None:
        raise NotFound()
    return entry


def _end_offer(booking_id: int, now: datetime, reason: str) -> list[datetime]:
    """Cancel an offered booking and drop its claims at once (no cool-down: the next person gets it)."""
    result = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking_id, Booking.status == BookingStatus.OFFERED.value)
        .values(
            status=BookingStatus.CANCELLED.value, cancelled_at=now, cancel_reason=reason, sequence=Booking.sequence + 1
        )
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return []
    units = sorted(
        db.session.execute(sa.select(SeatClaim.unit_start).where(SeatClaim.booking_id == booking_id)).scalars()
    )
    db.session.execute(sa.delete(SeatClaim).where(SeatClaim.booking_id == booking_id))
    return units


def leave_waitlist(entry_id: int, token: str, *, now: datetime | None = None) -> WaitlistEntry:
    """Leave the list (an open offer is given up and passed on); leaving twice is harmless."""
    now = as_utc(now) if now else utcnow()
    freed: list[datetime] = []
    location_id = None
    with transaction():
        entry = find_entry(entry_id, token)
        if entry.status not in OPEN_STATUSES:
            return entry
        if entry.offered_booking_id is not None:
            offered = db.session.get(Booking, entry.offered_booking_id)
            location_id = offered.location_id if offered is not None else None
            freed = _end_offer(entry.offered_booking_id, now, "waitlist_left")
        entry.status = WaitlistStatus.CANCELLED.value
        entry.offered_booking_id = None
        entry.offer_expires_at = None
        audit_entry("appointment.waitlist_left", LINK_ACTOR, entry)
    if location_id is not None and freed:
        offer_freed(location_id, freed, skip={entry.id})
    return entry


# -- answering an offer ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    booking: Booking
    entry: WaitlistEntry | None
    open: bool  # can still be accepted


def find_offer(reference: str, token: str, *, now: datetime | None = None) -> Offer:
    """The offer behind a mailed link (NotFound otherwise), and whether it can still be accepted."""
    now = as_utc(now) if now else utcnow()
    booking = find_booking(reference, token)
    entry = db.session.execute(
        sa.select(WaitlistEntry).where(WaitlistEntry.offered_booking_id == booking.id)
    ).scalar_one_or_none()
    if entry is None and booking.status not in LAPSED_OFFER_STATUSES:
        # An ordinary booking (its manage token works here too): not an offer. Offers that lapsed or were
        # declined have let go of their entry and still get the page saying so.
        raise NotFound()
    is_open = (
        booking.status == BookingStatus.OFFERED and booking.confirm_by is not None and as_utc(booking.confirm_by) > now
    )
    return Offer(booking, entry, is_open)


def _too_late() -> BookingError:
    return BookingError("offer", _("Dieses Angebot ist nicht mehr gültig."), "expired")


def accept_offer(reference: str, token: str, *, now: datetime | None = None) -> Booking:
    """Take the offered slot: the booking is confirmed, the entry booked. Accepting twice is harmless."""
    now = as_utc(now) if now else utcnow()
    with transaction():
        offer = find_offer(reference, token, now=now)
        booking = offer.booking
        if booking.status == BookingStatus.CONFIRMED and booking.confirmed_at is not None:
            return booking
        if not offer.open:
            raise _too_late()
        taken = db.session.execute(
            sa.update(Booking)
            .where(Booking.id == booking.id, Booking.status == BookingStatus.OFFERED.value)
            .values(status=BookingStatus.CONFIRMED.value, confirmed_at=now, sequence=Booking.sequence + 1)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            raise _too_late()
        db.session.execute(sa.update(SeatClaim).where(SeatClaim.booking_id == booking.id).values(expires_at=None))
        fresh = db.session.get(Booking, booking.id, populate_existing=True)
        assert fresh is not None
        booking = fresh
        entry = offer.entry
        if entry is not None:
            entry.status = WaitlistStatus.BOOKED.value
            entry.offer_expires_at = None
            audit_entry("appointment.waitlist_accepted", LINK_ACTOR, entry, reference=booking.reference)
        audit.record(
            "appointment.confirmed",
            LINK_ACTOR,
            target=booking,
            subject_user_id=booking.user_id,
            reference=booking.reference,
        )
        booking_mail.send(booking, "appointment_confirmed", token=token)
    return booking


def decline_offer(reference: str, token: str, *, keep: bool = False, now: datetime | None = None) -> Offer:
    """Say no to the offered slot; it goes to the next person. With `keep` the entry waits on, else it ends."""
    now = as_utc(now) if now else utcnow()
    with transaction():
        offer = find_offer(reference, token, now=now)
        if not offer.open or offer.entry is None:
            raise _too_late()
        booking, entry = offer.booking, offer.entry
        freed = _end_offer(booking.id, now, "waitlist_declined")
        if not freed:
            raise _too_late()
        entry.offered_booking_id = None
        entry.offer_expires_at = None
        entry.status = WaitlistStatus.WAITING.value if keep else WaitlistStatus.CANCELLED.value
        audit_entry("appointment.waitlist_declined", LINK_ACTOR, entry, reference=booking.reference, keep=keep)
    # The person who said no is not asked again for the same seat.
    offer_freed(booking.location_id, freed, skip={entry.id})
    db.session.refresh(booking)
    return Offer(booking, entry, False)
