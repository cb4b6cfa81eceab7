"""Clerks' calendar feeds: a personal, revocable subscription URL per location.

The URL carries the only credential (calendar clients cannot sign in), so the token is long, stored only as
its SHA-256, and checked again on every fetch together with the clerk's current role: a clerk who left the
department loses the feed without anyone having to revoke it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

import appointments.actions_config  # noqa: F401  (declares the feed audit actions)
from appointments.ics import feed_calendar
from appointments.models import ACTIVE_STATUSES, Booking, BookingStatus, CalendarFeed, LocationSettings
from portal.accounts.models import DepartmentRole, User
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Location
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

FEED_ROLES = (DepartmentRole.CLERK.value, DepartmentRole.DEPARTMENT_ADMIN.value)
FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=60)
# Past appointments stay in the clerk's calendar once they took place.
FEED_STATUSES = (*ACTIVE_STATUSES, BookingStatus.SERVED, BookingStatus.NO_SHOW)


@dataclass(frozen=True)
class NewFeed:
    feed: CalendarFeed
    token: str  # shown once; only its hash is stored


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _may_subscribe(user: User | None, location: Location) -> bool:
    return user is not None and any(user.has_role(role, location.department_id) for role in FEED_ROLES)


def feed_locations(actor: Actor) -> list[Location]:
    """Locations taking appointments in the departments where this person is clerk or department admin."""
    user = actor.user
    if user is None:
        return []
    department_ids = {m.department_id for m in user.memberships if m.role in FEED_ROLES}
    if not department_ids:
        return []
    query = (
        sa.select(Location)
        .join(LocationSettings, LocationSettings.location_id == Location.id)
        .where(Location.department_id.in_(department_ids))
        .order_by(Location.name)
    )
    return list(db.session.scalars(query))


def my_feeds(actor: Actor) -> list[tuple[CalendarFeed, Location]]:
    if actor.user is None:
        return []
    rows = db.session.execute(
        sa.select(CalendarFeed, Location)
        .join(Location, Location.id == CalendarFeed.location_id)
        .where(CalendarFeed.user_id == actor.user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(Location.name, CalendarFeed.created_at)
    )
    return [(feed, location) for feed, location in rows]


def create_feed(actor: Actor, location_id: int, *, show_names: bool) -> NewFeed:
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound()
    if not _may_subscribe(actor.user, location):
        raise Forbidden()
    assert actor.user is not None  # checked by _may_subscribe
    token = secrets.token_urlsafe(32)
    with transaction():
        feed = CalendarFeed(
            token_hash=hash_token(token), user_id=actor.user.id, location_id=location.id, show_names=show_names
        )
        db.session.add(feed)
        audit.record("appointment.feed_created", actor, target=feed, location_id=location.id, show_names=show_names)
    return NewFeed(feed, token)


def revoke_feed(actor: Actor, feed_id: int) -> CalendarFeed:
    feed = db.session.get(CalendarFeed, feed_id)
    # Someone else's feed looks the same as a missing one.
    if feed is None or actor.user is None or feed.user_id != actor.user.id or feed.revoked_at is not None:
        raise NotFound()
    with transaction():
        feed.revoked_at = utcnow()
        audit.record("appointment.feed_revoked", actor, target=feed, location_id=feed.location_id)
    return feed


def feed_ics(token: str) -> bytes:
    """The feed behind a token: the past week and the next 60 days. NotFound for unknown or revoked tokens.

    Fetches are not audited (calendar clients poll every few minutes); last_fetched_at shows the clerk
    whether a subscription is still in use.
    """
    feed = db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token)))
    if feed is None or feed.revoked_at is not None:
        raise NotFound()
    location = db.session.get(Location, feed.location_id)
    user = db.session.get(User, feed.user_id)
    if location is None or not _may_subscribe(user, location):
        raise NotFound()
    now = utcnow()
    bookings = list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                Booking.location_id == location.id,
                Booking.status.in_([str(s) for s in FEED_STATUSES]),
                Booking.starts_at >= now - FEED_PAST,
                Booking.starts_at < now + FEED_AHEAD,
            )
            .options(selectinload(Booking.items))
            .order_by(Booking.starts_at)
        )
    )
    data = feed_calendar(location.id, bookings, show_names=feed.show_names)
    with transaction():
        feed.last_fetched_at = now
    return data
