"""Offering freed seats to the waitlist: in order of joining, one offer per person at a time.

Booking calls `on_seats_freed` after a commit that freed seats (a cancellation, a move, a released hold or
offer); `seats_freed` below listens. It first settles offers that lapsed (the entry goes back to waiting,
or ends after MAX_UNANSWERED unanswered offers), then walks the waiting entries that match the location and
day, oldest first, and offers each a start inside the freed time until the seats are gone.

An offer is a Booking with status "offered": it claims its seat like any booking, with `confirm_by` (and the
claims' `expires_at`) at the offer deadline, so booking.release_expired lets it lapse like an unconfirmed
reservation. Seats in a cancellation cool-down are taken over for the waitlist: the cool-down keeps bots
from grabbing a freed slot, and the people waiting are exactly who it should go to.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

import appointments.actions_waitlist  # noqa: F401  (declares the audit actions)
from appointments.errors import BookingError
from appointments.models import (
    Booking,
    BookingKind,
    BookingStatus,
    LocationSettings,
    SeatClaim,
    WaitlistEntry,
    WaitlistStatus,
)
from appointments.services import availability, booking_rows, booking_seats, waitlist_mail
from appointments.services.events import SEATS_FREED
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.timeutil import BERLIN, as_utc, to_berlin, utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

MAX_UNANSWERED = 3
# One freed seat should not make one request walk an endless list; the job picks up the rest.
MAX_ATTEMPTS = 50


class _NoOffer(Exception):  # noqa: N818 - internal control flow
    """No candidate start worked for this entry: roll the entry back to waiting."""


def token_hash(token: str) -> str:
    from appointments.services.booking import token_hash as booking_token_hash

    return booking_token_hash(token)


def entry_items(entry: WaitlistEntry) -> list[tuple[int, int]]:
    return [(int(item["id"]), int(item["quantity"])) for item in json.loads(entry.services)]


def entry_locations(entry: WaitlistEntry) -> list[int]:
    return [int(part) for part in entry.location_ids.split(",") if part.strip()]


def describe(entry: WaitlistEntry) -> tuple[list[str], list[str]]:
    """(service texts, location names) of an entry, for pages and mails."""
    items = entry_items(entry)
    names = dict(
        db.session.execute(
            sa.select(CatalogueService.id, CatalogueService.name).where(
                CatalogueService.id.in_([sid for sid, _q in items])
            )
        ).all()
    )
    services = [f"{q} × {names.get(sid, '?')}" if q > 1 else str(names.get(sid, "?")) for sid, q in items]
    ids = entry_locations(entry)
    places = dict(db.session.execute(sa.select(Location.id, Location.name).where(Location.id.in_(ids))).all())
    return services, [str(places.get(i, "?")) for i in ids]


def audit_entry(action: str, actor, entry: WaitlistEntry, **details) -> None:  # type: ignore[no-untyped-def]
    audit.record(action, actor, target=entry, subject_user_id=entry.user_id, entry_id=entry.id, **details)


# -- making an offer --------------------------------------------------------------------------------------------


def _claim(booking: Booking, units: list[datetime], seats: int, now: datetime, expires_at: datetime) -> bool:
    """Claim a free seat, or else take over a seat in a cancellation cool-down for the whole visit."""
    seat, released = booking_seats.claim_seat(booking, units, seats, now=now, expires_at=expires_at)
    _announce(released)
    if seat is not None:
        return True
    held = db.session.execute(
        sa.select(SeatClaim.seat)
        .where(
            SeatClaim.location_id == booking.location_id,
            SeatClaim.unit_start.in_(units),
            SeatClaim.booking_id.is_(None),
            SeatClaim.hold_until > now,
            SeatClaim.seat < seats,
        )
        .distinct()
        .order_by(SeatClaim.seat)
    ).scalars()
    for held_seat in list(held):
        savepoint = db.session.begin_nested()
        db.session.execute(
            sa.delete(SeatClaim).where(
                SeatClaim.location_id == booking.location_id,
                SeatClaim.unit_start.in_(units),
                SeatClaim.seat == held_seat,
                SeatClaim.booking_id.is_(None),
            )
        )
        seat, released = booking_seats.claim_seat(booking, units, seats, now=now, expires_at=expires_at)
        if seat is not None:
            savepoint.commit()
            _announce(released)
            return True
        savepoint.rollback()
    return False


def _announce(released: Iterable[Booking]) -> None:
    from appointments.services.booking import _announce_releases

    _announce_releases(list(released), "not_confirmed")


def _try_start(
    entry: WaitlistEntry, location_id: int, start: datetime, settings: LocationSettings, now: datetime
) -> tuple[Booking, str] | None:
    """Hold `start` for the entry as an offered booking (inside a savepoint); None when it does not fit."""
    items = entry_items(entry)
    try:
        duration = availability.check_bookable(location_id, items, start, now=now)
    except BookingError:
        return None
    deadline = min(now + timedelta(minutes=settings.waitlist_offer_minutes), start)
    token = secrets.token_urlsafe(32)
    savepoint = db.session.begin_nested()
    booking = booking_rows.add_booking(
        location_id,
        start,
        duration,
        items,
        entry,
        now,
        manage_token_hash=token_hash(token),
        user_id=entry.user_id,
        kind=BookingKind.ONLINE.value,
        status=BookingStatus.OFFERED.value,
        confirm_by=deadline,
    )
    units = availability.claim_units(location_id, start, duration)
    if not _claim(booking, units, booking_seats.seats_for(settings, "online"), now, deadline):
        savepoint.rollback()
        return None
    savepoint.commit()
    return booking, token


def offer_to(entry_id: int, starts: dict[int, list[datetime]], *, now: datetime) -> Booking | None:
    """Offer the entry the first start (per location, in the entry's order of locations) that can be held.

    One transaction: the entry turns "offered" (a conditional update, so two offers never race for one
    person), the offered booking holds its seat, the audit event and the mail commit together.
    """
    try:
        with transaction():
            taken = db.session.execute(
                sa.update(WaitlistEntry)
                .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WaitlistStatus.WAITING.value)
                .values(status=WaitlistStatus.OFFERED.value)
                .execution_options(synchronize_session=False)
            )
            if not taken.rowcount:  # type: ignore[attr-defined]
                raise _NoOffer()
            entry = db.session.get(WaitlistEntry, entry_id, populate_existing=True)
            assert entry is not None
            held = None
            for location_id in entry_locations(entry):
                settings = db.session.get(LocationSettings, location_id)
                if settings is None or not settings.active:
                    continue
                for start in starts.get(location_id, []):
                    if not entry.first_day <= to_berlin(start).date() <= entry.last_day:
                        continue
                    held = _try_start(entry, location_id, start, settings, now)
                    if held is not None:
                        break
                if held is not None:
                    break
            if held is None:
                raise _NoOffer()
            booking, token = held
            entry.offered_booking_id = booking.id
            entry.offer_expires_at = booking.confirm_by
            audit_entry(
                "appointment.waitlist_offered",
                SYSTEM,
                entry,
                reference=booking.reference,
                starts_at=as_utc(booking.starts_at).isoformat(),
                location_id=booking.location_id,
            )
            waitlist_mail.offer(booking, token)
    except _NoOffer:
        return None
    return booking


# -- settling lapsed offers and ended entries --------------------------------------------------------------------


def settle_lapsed(now: datetime | None = None) -> list[int]:
    """Entries whose offer is over without an answer: back to waiting, or ended after MAX_UNANSWERED.

    An offer is over once its booking was released (booking.release_expired). Returns the entries settled,
    so the seat that lapsed is not offered straight back to the person who let it lapse.
    """
    now = as_utc(now) if now else utcnow()
    _settle_taken()
    rows = db.session.execute(
        sa.select(WaitlistEntry.id)
        .join(Booking, Booking.id == WaitlistEntry.offered_booking_id)
        .where(
            WaitlistEntry.status == WaitlistStatus.OFFERED.value,
            Booking.status.in_([BookingStatus.RELEASED.value, BookingStatus.CANCELLED.value]),
        )
        .order_by(WaitlistEntry.id)
    ).scalars()
    settled = []
    for entry_id in list(rows):
        with transaction():
            entry = db.session.get(WaitlistEntry, entry_id, populate_existing=True)
            if entry is None or entry.status != WaitlistStatus.OFFERED:
                continue
            booking = db.session.get(Booking, entry.offered_booking_id)
            reference = booking.reference if booking is not None else ""
            entry.offers_made += 1
            entry.offered_booking_id = None
            entry.offer_expires_at = None
            audit_entry("appointment.waitlist_offer_lapsed", SYSTEM, entry, reference=reference)
            if entry.offers_made >= MAX_UNANSWERED:
                entry.status = WaitlistStatus.CANCELLED.value
                audit_entry("appointment.waitlist_expired", SYSTEM, entry, reason="unanswered_offers")
                services, locations = describe(entry)
                waitlist_mail.ended(entry, "unanswered_offers", services, locations)
            else:
                entry.status = WaitlistStatus.WAITING.value
        settled.append(entry_id)
    return settled


def _settle_taken() -> None:
    """Offers confirmed some other way than the offer page (e.g. booking.confirm_booking): the entry is booked."""
    rows = db.session.execute(
        sa.select(WaitlistEntry.id, Booking.reference)
        .join(Booking, Booking.id == WaitlistEntry.offered_booking_id)
        .where(
            WaitlistEntry.status == WaitlistStatus.OFFERED.value,
            Booking.status.in_(
                [BookingStatus.CONFIRMED.value, BookingStatus.CHECKED_IN.value, BookingStatus.CALLED.value]
            ),
        )
    ).all()
    for entry_id, reference in rows:
        with transaction():
            done = db.session.execute(
                sa.update(WaitlistEntry)
                .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WaitlistStatus.OFFERED.value)
                .values(status=WaitlistStatus.BOOKED.value, offer_expires_at=None)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount:  # type: ignore[attr-defined]
                entry = db.session.get(WaitlistEntry, entry_id, populate_existing=True)
                assert entry is not None
                audit_entry("appointment.waitlist_accepted", SYSTEM, entry, reference=reference)


def expire_past(now: datetime | None = None) -> int:
    """Waiting entries whose date range is over end as "expired" (with a mail); returns how many."""
    now = as_utc(now) if now else utcnow()
    today = now.astimezone(BERLIN).date()
    ids = list(
        db.session.execute(
            sa.select(WaitlistEntry.id).where(
                WaitlistEntry.status == WaitlistStatus.WAITING.value, WaitlistEntry.last_day < today
            )
        ).scalars()
    )
    count = 0
    for entry_id in ids:
        with transaction():
            done = db.session.execute(
                sa.update(WaitlistEntry)
                .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WaitlistStatus.WAITING.value)
                .values(status=WaitlistStatus.EXPIRED.value)
                .execution_options(synchronize_session=False)
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                continue
            entry = db.session.get(WaitlistEntry, entry_id, populate_existing=True)
            assert entry is not None
            audit_entry("appointment.waitlist_expired", SYSTEM, entry, reason="range_passed")
            services, locations = describe(entry)
            waitlist_mail.ended(entry, "range_passed", services, locations)
            count += 1
    return count


# -- who gets a freed seat ---------------------------------------------------------------------------------------


def _waiting(location_id: int | None, first: date, last: date, skip: set[int]) -> list[int]:
    """Waiting entries whose range overlaps [first, last] (and that name the location), oldest first."""
    rows = db.session.execute(
        sa.select(WaitlistEntry.id, WaitlistEntry.location_ids)
        .where(
            WaitlistEntry.status == WaitlistStatus.WAITING.value,
            WaitlistEntry.first_day <= last,
            WaitlistEntry.last_day >= first,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    return [
        row.id
        for row in rows
        if row.id not in skip and (location_id is None or str(location_id) in row.location_ids.split(","))
    ]


def offer_freed(
    location_id: int, units: Sequence[datetime], *, skip: Iterable[int] = (), now: datetime | None = None
) -> list[Booking]:
    """Offer the freed units' starts to the waiting entries, oldest first; returns the offers made."""
    now = as_utc(now) if now else utcnow()
    starts = sorted({as_utc(unit) for unit in units if as_utc(unit) > now})
    if not starts:
        return []
    days = [to_berlin(start).date() for start in starts]
    offers: list[Booking] = []
    for entry_id in _waiting(location_id, min(days), max(days), set(skip))[:MAX_ATTEMPTS]:
        made = offer_to(entry_id, {location_id: starts}, now=now)
        if made is not None:
            offers.append(made)
    return offers


def seats_freed(location_id: int, units: Sequence[datetime]) -> None:
    """The SEATS_FREED listener: settle lapsed offers first, then offer the seats to the next in line."""
    lapsed = settle_lapsed()
    offer_freed(location_id, units, skip=lapsed)


if seats_freed not in SEATS_FREED:
    SEATS_FREED.append(seats_freed)


# -- the job -----------------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    released: int = 0
    lapsed: int = 0
    expired: int = 0
    offered: list[Booking] = field(default_factory=list)
    waiting: int = 0


def run(now: datetime | None = None, *, progress: Callable[[str], None] | None = None) -> RunSummary:
    """Offer free slots to waiting entries now (after capacity was added, or as a periodic job).

    Lets lapsed holds go first (booking.release_expired, whose freed seats go to the list through the
    listener), ends entries whose range passed, then offers each waiting entry, oldest first, the earliest
    free start at one of its locations.
    """
    from appointments.services.booking import release_expired

    now = as_utc(now) if now else utcnow()
    summary = RunSummary()
    summary.released = release_expired(now)
    summary.lapsed = len(settle_lapsed(now))
    summary.expired = expire_past(now)
    today = now.astimezone(BERLIN).date()
    ids = _waiting(None, today, date.max, set())
    for index, entry_id in enumerate(ids, start=1):
        entry = db.session.get(WaitlistEntry, entry_id)
        if entry is None:
            continue
        items = entry_items(entry)
        first = max(entry.first_day, today)
        starts: dict[int, list[datetime]] = {}
        for location_id in entry_locations(entry):
            try:
                found = availability.free_slots(location_id, items, first, entry.last_day, now=now)
            except BookingError:
                continue
            starts[location_id] = [slot.start for slot in found[:5]]
        db.session.rollback()
        made = offer_to(entry_id, starts, now=now) if any(starts.values()) else None
        if made is not None:
            summary.offered.append(made)
        if progress is not None:
            progress(f"{index}/{len(ids)}: " + (f"offered {made.reference}" if made else "still waiting"))
    summary.waiting = len(_waiting(None, today, date.max, set()))
    return summary
