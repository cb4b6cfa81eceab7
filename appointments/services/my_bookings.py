"""A signed-in citizen's own bookings, for "Meine Termine"."""

from __future__ import annotations

import sqlalchemy as sa

from appointments.errors import NotFound
from appointments.models import Booking
from portal.accounts.models import Organisation
from portal.accounts.services import organisations
from portal.actors import Actor
from portal.extensions import db


def bookings_of(actor: Actor, limit: int = 200) -> list[Booking]:
    """The bookings made while signed in (Booking.user_id), newest appointment first; nobody else's."""
    if actor.user is None:
        return []
    query = sa.select(Booking).where(Booking.user_id == actor.user.id).order_by(Booking.starts_at.desc()).limit(limit)
    return list(db.session.scalars(query))


def own_booking(actor: Actor, reference: str) -> Booking:
    """One booking of the signed-in citizen, by reference: the account authorises as the mailed link's token
    does. NotFound for someone else's booking and an unknown reference alike."""
    booking = db.session.execute(sa.select(Booking).where(Booking.reference == reference)).scalar_one_or_none()
    if booking is None or actor.user is None or booking.user_id != actor.user.id:
        raise NotFound()
    return booking


def organisation_bookings(actor: Actor, organisation_id: int, limit: int = 500) -> list[Booking]:
    """The bookings made for a business (by any of its members acting for it), newest appointment first.

    Members of the organisation only (owners and members alike: every member may book for it); NotAllowedError
    for anyone else.
    """
    organisations.get_organisation(actor, organisation_id)
    query = (
        sa.select(Booking)
        .where(Booking.organisation_id == organisation_id)
        .order_by(Booking.starts_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def organisation_of(booking: Booking) -> Organisation | None:
    """The business a booking belongs to (booked while acting for it), or None."""
    return db.session.get(Organisation, booking.organisation_id) if booking.organisation_id else None
