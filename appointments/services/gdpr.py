"""A person's appointments data: what the export shows, and what deleting their account does to it.

Bookings and waitlist entries belong to an account through `user_id` (set when booked or joined while signed
in); the same goes for a clerk's calendar feeds. Bookings made without signing in are reached only through
their mailed link and are not matched by email address here: an address typed into a form proves nothing
about who owns it.

Erasure runs inside the account deletion's transaction (portal.gdpr): nothing here commits.
- Open bookings (reserved, confirmed or offered, starting later) are cancelled like a citizen's own
  cancellation (seats freed after the location's cool-down, "appointment.cancelled" audited, the
  cancellation mail sent). The mail is sent on purpose: it carries the calendar file that removes the
  appointment from the person's calendar, and it tells them not to come, which matters more than one last
  message to an address they are leaving. It is written to the outbox before the booking loses the address.
- Every booking of the account, past and cancelled ones included, is pseudonymised: name, email and phone go,
  and the manage link stops working; time, location, services, status and desk timestamps stay for the
  statistics. A booking already at the desk (checked in, called) is only pseudonymised; the clerk finishes it.
- Waitlist entries are deleted (an open one is audited as "appointment.waitlist_left" first).
- Calendar feeds of a clerk are revoked ("appointment.feed_revoked"); they would stop anyway with the roles.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from appointments import actions_booking, actions_config, actions_waitlist  # noqa: F401  (declare the actions used)
from appointments.models import (
    Booking,
    BookingStatus,
    CalendarFeed,
    LocationSettings,
    WaitlistEntry,
)
from appointments.services import booking_mail, booking_seats, fee_payments
from appointments.services.booking import _audit, _take, token_hash
from appointments.services.waitlist import OPEN_STATUSES as OPEN_WAITLIST_STATUSES
from appointments.services.waitlist_offers import audit_entry
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.timeutil import as_utc, utcnow

# Not yet at the desk: these are cancelled when they lie ahead. Checked-in or called visits are under way.
CANCELLABLE = (BookingStatus.RESERVED, BookingStatus.CONFIRMED, BookingStatus.OFFERED)
ERASURE_REASON = "account_deleted"


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _names(model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(model.id, model.name).where(model.id.in_(ids))).all())


def bookings_of_user(user_id: int) -> list[Booking]:
    return list(db.session.scalars(sa.select(Booking).where(Booking.user_id == user_id).order_by(Booking.starts_at)))


def export_of_user(user_id: int) -> dict[str, Any]:
    """Bookings, waitlist entries and calendar feeds of the account, JSON-ready (no tokens or their hashes)."""
    bookings = bookings_of_user(user_id)
    entries = list(
        db.session.scalars(
            sa.select(WaitlistEntry).where(WaitlistEntry.user_id == user_id).order_by(WaitlistEntry.created_at)
        )
    )
    feeds = list(
        db.session.scalars(sa.select(CalendarFeed).where(CalendarFeed.user_id == user_id).order_by(CalendarFeed.id))
    )
    entry_services = {e.id: json.loads(e.services) for e in entries}
    entry_locations = {e.id: [int(i) for i in e.location_ids.split(",") if i] for e in entries}
    service_names = _names(
        CatalogueService,
        {item.catalogue_service_id for b in bookings for item in b.items}
        | {int(s["id"]) for services in entry_services.values() for s in services},
    )
    location_names = _names(
        Location,
        {b.location_id for b in bookings}
        | {i for ids in entry_locations.values() for i in ids}
        | {f.location_id for f in feeds},
    )
    return {
        "bookings": [
            {
                "reference": b.reference,
                "status": b.status,
                "kind": b.kind,
                "starts_at": _iso(b.starts_at),
                "ends_at": _iso(b.ends_at),
                "location": {"id": b.location_id, "name": location_names.get(b.location_id)},
                "services": [
                    {"name": service_names.get(item.catalogue_service_id), "quantity": item.quantity}
                    for item in b.items
                ],
                "name": b.name,
                "email": b.email,
                "phone": b.phone,
                "language": b.language,
                "created_at": _iso(b.created_at),
                "confirmed_at": _iso(b.confirmed_at),
                "cancelled_at": _iso(b.cancelled_at),
                "cancel_reason": b.cancel_reason,
                "reminder_sent_at": _iso(b.reminder_sent_at),
                "attendance_confirmed_at": _iso(b.attendance_confirmed_at),
                "checked_in_at": _iso(b.checked_in_at),
                "served_at": _iso(b.served_at),
                "no_show_at": _iso(b.no_show_at),
            }
            for b in bookings
        ],
        "waitlist": [
            {
                "status": e.status,
                "name": e.name,
                "email": e.email,
                "phone": e.phone,
                "services": [
                    {"name": service_names.get(int(s["id"])), "quantity": int(s["quantity"])}
                    for s in entry_services[e.id]
                ],
                "locations": [location_names.get(i) for i in entry_locations[e.id]],
                "first_day": e.first_day.isoformat(),
                "last_day": e.last_day.isoformat(),
                "created_at": _iso(e.created_at),
            }
            for e in entries
        ],
        "calendar_feeds": [
            {
                "location": location_names.get(f.location_id),
                "show_names": f.show_names,
                "created_at": _iso(f.created_at),
                "last_fetched_at": _iso(f.last_fetched_at),
                "revoked_at": _iso(f.revoked_at),
            }
            for f in feeds
        ],
    }


# --- erasure --------------------------------------------------------------------------------------------------


def _open_bookings(user_id: int, now: datetime) -> sa.Select:
    return (
        sa.select(Booking.id)
        .where(
            Booking.user_id == user_id,
            Booking.status.in_([s.value for s in CANCELLABLE]),
            Booking.starts_at > now,
        )
        .order_by(Booking.id)
    )


@dataclass(frozen=True)
class ErasurePlan:
    to_cancel: int
    to_pseudonymise: int
    waitlist_entries: int
    feeds: int


def erasure_plan(user_id: int, *, now: datetime | None = None) -> ErasurePlan:
    """What erase_for_account would do right now, counted (for the deletion page)."""
    now = as_utc(now) if now else utcnow()

    def count(query: sa.Select) -> int:
        return int(db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())

    return ErasurePlan(
        to_cancel=count(_open_bookings(user_id, now)),
        to_pseudonymise=count(sa.select(Booking.id).where(Booking.user_id == user_id)),
        waitlist_entries=count(
            sa.select(WaitlistEntry.id).where(
                WaitlistEntry.user_id == user_id, WaitlistEntry.status.in_(OPEN_WAITLIST_STATUSES)
            )
        ),
        feeds=count(
            sa.select(CalendarFeed.id).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        ),
    )


@dataclass
class Erased:
    cancelled: list[str] = field(default_factory=list)  # references
    pseudonymised: int = 0
    waitlist_removed: int = 0
    feeds_revoked: int = 0
    freed: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))  # location -> units


def erase_for_account(actor: Actor, user_id: int, *, now: datetime | None = None) -> Erased:
    """Cancel the account's open bookings, pseudonymise all its bookings, drop its waitlist entries and revoke
    its calendar feeds, in the caller's transaction. `freed` lists the seats to announce after the commit."""
    now = as_utc(now) if now else utcnow()
    erased = Erased()
    cancelled: list[Booking] = []
    for booking_id in list(db.session.scalars(_open_bookings(user_id, now))):
        booking = _take(booking_id, CANCELLABLE)  # the same guard as cancel_booking against a concurrent change
        if booking is None or booking.starts_at <= now:
            continue
        settings = db.session.get(LocationSettings, booking.location_id)
        cooldown = settings.cancel_cooldown_minutes if settings is not None else 0
        hold_until = now + timedelta(minutes=cooldown) if cooldown > 0 else None
        erased.freed[booking.location_id].extend(booking_seats.free_claims(booking, hold_until=hold_until))
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
        with force_locale(booking.language or "de"):
            booking.cancel_reason = _("Das Konto im Stadtportal wurde gelöscht.")
        cancelled.append(booking)
    # The person cancels by deleting the account: their fees follow the refund policy, as any cancellation.
    settled = fee_payments.settle_cancellations(actor, cancelled, by_city=False, now=now)
    for booking in cancelled:
        _audit("appointment.cancelled", actor, booking, reason=ERASURE_REASON)
        booking_mail.send(booking, "appointment_cancelled", method="CANCEL", fee=settled.get(booking.id))
        erased.cancelled.append(booking.reference or str(booking.id))

    entries = list(db.session.scalars(sa.select(WaitlistEntry).where(WaitlistEntry.user_id == user_id)))
    for entry in entries:
        if entry.status in OPEN_WAITLIST_STATUSES:
            audit_entry("appointment.waitlist_left", actor, entry, reason=ERASURE_REASON)
        db.session.delete(entry)
    erased.waitlist_removed = len(entries)

    feeds = db.session.scalars(
        sa.select(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
    )
    for feed in list(feeds):
        feed.revoked_at = now
        audit.record(
            "appointment.feed_revoked", actor, target=feed, location_id=feed.location_id, reason=ERASURE_REASON
        )
        erased.feeds_revoked += 1

    bookings = bookings_of_user(user_id)
    for booking in bookings:
        booking.name = ""
        booking.email = None
        booking.phone = None
        # A fresh random hash (the column is unique): the manage links in old mails stop working.
        booking.manage_token_hash = token_hash(secrets.token_urlsafe(32))
    erased.pseudonymised = len(bookings)
    return erased
