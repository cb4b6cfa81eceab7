"""Writing to the audit trail. Called inside the service's own transaction, never committed here.

record() queues the event (audit_pending) in the use case's transaction; the sequencer gives it its seq and
hash right after the commit (portal.audit.sequencer). record_now() chains it at once, for the few use cases
that need the seq before they commit.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request

from portal.actors import Actor
from portal.audit import registry, sequencer
from portal.audit.chain import canonical_json, mask_secrets
from portal.audit.models import AuditEvent
from portal.audit.sequencer import CHAIN_LOCK_KEY  # noqa: F401  (where callers have looked for it)
from portal.extensions import db
from portal.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedEvent:
    """An event written in the current transaction. Its seq is given by the sequencer after the commit; the
    event_key finds it in audit_event then (audit_event.event_key)."""

    event_key: str
    action: str
    occurred_at: datetime


def record(action: str, actor: Actor, **event: Any) -> RecordedEvent:
    """Write one event in the current transaction; it is chained (seq, hash) once the transaction commits.

    The arguments are prepare()'s: the action, the actor, `target` (or `target_type` and `target_id`),
    `subject_user_id`, `outcome` and the details.
    """
    pending = prepare(action, actor, **event)
    # Core, not the ORM: the sequencer deletes the row again, maybe in this very transaction (SQLite).
    db.session.connection().execute(sequencer.INSERT_PENDING, pending.row)
    return queued(pending)


@dataclass(frozen=True)
class PendingEvent:
    """An event checked and ready for the queue, not yet written: `row` is its audit_pending row (the values of
    sequencer.INSERT_PENDING). Write it with record(), or in a statement of your own (queue_cte()) followed by
    queued()."""

    row: dict[str, Any]
    event: RecordedEvent


def prepare(
    action: str,
    actor: Actor,
    *,
    target: Any = None,
    target_type: str | None = None,
    target_id: Any = None,
    subject_user_id: int | None = None,
    outcome: str = "success",
    **details: Any,
) -> PendingEvent:
    """Everything record() does before it writes: the event's checks, its masked canonical details, its key.

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

    request_id = ip = None
    if has_request_context():
        request_id = g.get("request_id")
        ip = request.remote_addr
    occurred_at = utcnow()
    event_key = secrets.token_hex(16)
    row: dict[str, Any] = {
        "event_key": event_key,
        "occurred_at": occurred_at,
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
    return PendingEvent(row, RecordedEvent(event_key=event_key, action=action, occurred_at=occurred_at))


def queued(pending: PendingEvent) -> RecordedEvent:
    """After the pending row was written in the current transaction: chain it now (SQLite) or have it chained
    after the commit. Whoever writes the row itself must call this, or the event waits for the job."""
    if sequencer.chains_at_record():
        sequencer.chain_in_session()
    else:
        sequencer.note_queued()
    event = pending.event
    log.debug(
        "audit %s %s",
        event.action,
        pending.row["outcome"],
        extra={"audit_event_key": event.event_key, "action": event.action},
    )
    return event


# The parameters of queue_cte() are named with this prefix, so they can sit beside the outer statement's own.
QUEUE_PARAM_PREFIX = "queued_"


def queue_cte(name: str = "queued") -> sa.CTE:
    """audit_pending's INSERT as a common table expression, to be attached (add_cte) to another INSERT on
    PostgreSQL, which then writes both rows in one round trip; bind it with queue_params()."""
    return (
        sa.insert(sequencer.PENDING)
        .values(
            {
                column.name: sa.bindparam(QUEUE_PARAM_PREFIX + column.name, type_=column.type)
                for column in sequencer.PENDING.c
                if column.name != "id"
            }
        )
        .cte(name)
    )


def queue_params(pending: PendingEvent) -> dict[str, Any]:
    return {QUEUE_PARAM_PREFIX + name: value for name, value in pending.row.items()}


def writes_in_one_statement() -> bool:
    """Whether a caller may write the pending row with its own INSERT (queue_cte()): on PostgreSQL, where a
    data-modifying CTE exists, and only when the event is chained after the commit (at record, chaining wants
    the row written first)."""
    return db.session.get_bind().dialect.name == "postgresql" and not sequencer.chains_at_record()


def record_now(action: str, actor: Actor, **kwargs: Any) -> AuditEvent:
    """record(), then chain the event in the current transaction and return it with its seq.

    Takes the chain lock until the transaction ends (with every event queued before it), so concurrent audited
    use cases wait for this one's commit: only for use cases that must store or show the seq before they commit
    (the data-access log's foreign key to it, the moderator's reference to the reveal).
    """
    recorded = record(action, actor, **kwargs)
    chained = {c.event_key: c.seq for c in sequencer.chain_in_session()}
    seq = chained.get(recorded.event_key)
    if seq is None:  # already chained by record() (SQLite) in an earlier batch of the same call
        seq = db.session.scalar(sa.select(AuditEvent.seq).where(AuditEvent.event_key == recorded.event_key))
    event = db.session.get(AuditEvent, seq)
    assert event is not None
    return event
