"""GET /api/v1/audit/events: the audit trail for a SIEM, with a token holding the "audit" scope."""

from __future__ import annotations

from typing import Any

from portal import access
from portal.actors import current_actor
from portal.api import audit_feed
from portal.api.blueprint import Blueprint
from portal.api.schemas import AuditEventPageSchema, AuditEventsQuerySchema

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit", description="The audit trail, read-only")


@blp.route("/events")
@blp.arguments(AuditEventsQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AuditEventPageSchema)
@access.token("audit")
def list_events(after_seq: int, limit: int) -> Any:
    """Audit events after a sequence number, oldest first.

    Poll with the `next_after_seq` of the previous answer. Each event carries `prev_hash` and `hash`, so
    the receiver can check the chain for gaps and changes. Token use is itself audited.
    """
    return audit_feed.events_after(current_actor(), after_seq, limit)
