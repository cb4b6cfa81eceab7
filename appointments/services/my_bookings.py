"""A signed-in citizen's own bookings, for "Meine Termine"."""

from __future__ import annotations

import sqlalchemy as sa

from appointments.models import Booking
from portal.actors import Actor
from portal.extensions import db


def bookings_of(actor: Actor, limit: int = 200) -> list[Booking]:
    """The bookings made while signed in (Booking.user_id), newest appointment first; nobody else's."""
    if actor.user is None:
        return []
    query = sa.select(Booking).where(Booking.user_id == actor.user.id).order_by(Booking.starts_at.desc()).limit(limit)
    return list(db.session.scalars(query))
