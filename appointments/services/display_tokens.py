"""Display links for waiting-room screens: a secret address that shows one location's call display (numbers
and counters, never names) and nothing else, without anybody signing in on the screen.

Department admins (and platform admins) make and revoke them; both are audited. Only the token's SHA-256 is
stored; the address is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

import appointments.actions_desk  # noqa: F401  (declares the audit actions)
from appointments.models import DisplayToken
from appointments.services.desk import _settings, may_close_days
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Location
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction


@dataclass(frozen=True)
class NewDisplayToken:
    row: DisplayToken
    token: str  # in clear only here: the screen's address carries it


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _admin_location(actor: Actor, location_id: int) -> Location:
    location, _row = _settings(location_id)
    if not may_close_days(actor, location):  # the department's admins, as for closing a day
        raise Forbidden()
    return location


def may_manage(actor: Actor, location: Location) -> bool:
    return may_close_days(actor, location)


def tokens_of(actor: Actor, location_id: int) -> list[DisplayToken]:
    """The location's display links that still work, oldest first (department admins only)."""
    _admin_location(actor, location_id)
    return list(
        db.session.scalars(
            sa.select(DisplayToken)
            .where(DisplayToken.location_id == location_id, DisplayToken.revoked_at.is_(None))
            .order_by(DisplayToken.id)
        )
    )


def create_token(actor: Actor, location_id: int, label: str) -> NewDisplayToken:
    location = _admin_location(actor, location_id)
    label = " ".join(label.split())[:100] or "Wartebereich"
    token = secrets.token_urlsafe(32)
    with transaction():
        row = DisplayToken(
            token_hash=_hash(token),
            location_id=location.id,
            label=label,
            created_by_id=actor.user.id if actor.user is not None else None,
            created_at=utcnow(),
        )
        db.session.add(row)
        db.session.flush()
        audit.record("appointment.display_token_created", actor, target=row, location_id=location.id, label=label)
    return NewDisplayToken(row, token)


def revoke_token(actor: Actor, location_id: int, token_id: int) -> DisplayToken:
    location = _admin_location(actor, location_id)
    with transaction():
        row = db.session.get(DisplayToken, token_id)
        if row is None or row.location_id != location.id or row.revoked_at is not None:
            raise NotFound()
        row.revoked_at = utcnow()
        audit.record("appointment.display_token_revoked", actor, target=row, location_id=location.id, label=row.label)
    return row


def location_for_token(location_id: int, token: str) -> int:
    """The location a screen may show: the token must be live and made for exactly this location (NotFound)."""
    # Looked up by its hash: the secret itself is never compared, so timing tells nothing about it.
    row = db.session.scalar(sa.select(DisplayToken).where(DisplayToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or row.location_id != location_id:
        raise NotFound()
    with transaction():
        row.last_seen_at = utcnow()
    return row.location_id
