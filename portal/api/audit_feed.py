"""The audit trail as a read-only feed for a SIEM: events after a sequence number, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden

from portal.actors import Actor
from portal.audit import sequencer
from portal.audit.models import AuditEvent
from portal.extensions import db

FEED_SCOPE = "audit"


@dataclass(frozen=True)
class AuditEventPage:
    events: list[AuditEvent]
    next_after_seq: int
    has_more: bool


def events_after(actor: Actor, after_seq: int, limit: int) -> AuditEventPage:
    """Up to `limit` events with seq > after_seq. Only clients holding the audit scope may read them."""
    if FEED_SCOPE not in actor.scopes:
        raise Forbidden(_l("Dieser Zugang darf das Prüfprotokoll nicht lesen."))
    sequencer.catch_up()
    rows = list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq).limit(limit + 1)
        )
    )
    has_more = len(rows) > limit
    events = rows[:limit]
    return AuditEventPage(events, events[-1].seq if events else after_seq, has_more)
