"""Writing to the audit trail. Called inside the service's own transaction, never committed here."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request

from portal.actors import Actor
from portal.audit import registry
from portal.audit.chain import GENESIS_HASH, canonical_json, chain_hash, event_payload, mask_secrets
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

# Any constant: on PostgreSQL every writer of the chain takes this transaction-scoped lock, so two
# concurrent transactions can never both append after the same predecessor.
CHAIN_LOCK_KEY = 7_254_001


def _lock_chain() -> None:
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})


def record(
    action: str,
    actor: Actor,
    *,
    target: Any = None,
    target_type: str | None = None,
    target_id: Any = None,
    subject_user_id: int | None = None,
    outcome: str = "success",
    **details: Any,
) -> AuditEvent:
    """Append one event to the chain in the current transaction.

    `target` may be a model instance (its table name and id are used). Detail keys are checked against the
    declared action; values that look like secrets are masked. `purpose`, `legal_basis` and `department_id`
    are shown to the citizen in words (see portal.audit.registry for the convention).
    """
    declared = registry.get(action)
    missing = declared.required - details.keys()
    if missing:
        raise ValueError(f"audit action {action!r} is missing detail keys {sorted(missing)}")
    registry.check_well_known(details)
    if target is not None:
        target_type = target_type or getattr(target, "__tablename__", type(target).__name__)
        db.session.flush()
        target_id = getattr(target, "id", target_id)

    _lock_chain()
    last = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)

    request_id = ip = None
    if has_request_context():
        request_id = g.get("request_id")
        ip = request.remote_addr
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": utcnow(),
        "actor_type": actor.kind,
        "actor_id": actor.id,
        "on_behalf_of": actor.on_behalf_of,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "subject_user_id": subject_user_id,
        "details": canonical_json(mask_secrets(details)),
        "request_id": request_id,
        "ip": ip,
        "outcome": outcome,
    }
    event = AuditEvent(**fields, prev_hash=prev_hash, hash=chain_hash(prev_hash, event_payload(**fields)))
    db.session.add(event)
    db.session.flush()
    log.debug("audit %s %s", action, outcome, extra={"audit_seq": seq, "action": action})
    return event
