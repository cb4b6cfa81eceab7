"""Asking for an approval: put a subject up for a second person's decision, with the reason and a payload.

`request_approval` is a whole use case with its own `with transaction():`; `create_request` is the same inside
the caller's transaction, for a service whose own change must commit together with the request. The names are
importable from portal.approvals.services.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

import portal.approvals.actions  # noqa: F401  (declares the audit actions)
from portal.actors import Actor
from portal.approvals.errors import ApprovalError
from portal.approvals.kinds import citizen_of, get_kind
from portal.approvals.models import OPEN, ApprovalRequest
from portal.audit import services as audit
from portal.extensions import db
from portal.references import next_reference
from portal.timeutil import utcnow
from portal.transaction import transaction

REFERENCE_PREFIX = "FRG"  # Freigabe
REASON_MAX = 2000
SUMMARY_MAX = 500


def _subject_of(subject: Any) -> tuple[str, str]:
    if isinstance(subject, tuple) and len(subject) == 2:
        return str(subject[0]), str(subject[1])
    table = getattr(subject, "__tablename__", None)
    identity = getattr(subject, "id", None)
    if table is None or identity is None:
        raise TypeError("subject must be a saved model instance or a (type, id) pair")
    return str(table), str(identity)


def request_approval(
    actor: Actor,
    kind: str,
    subject: Any,
    payload: dict[str, Any],
    reason: str,
    *,
    department_id: int | None = None,
    subject_user_id: int | None = None,
    summary: str | None = None,
) -> ApprovalRequest:
    """Put `subject` up for a second person's decision; returns the open request (reference FRG-YYYY-NNNNNN).

    The calling service has already checked that `actor` may ask for this. `payload` holds what the
    callback needs (JSON); `summary` is used when the kind has no `describe`.
    """
    with transaction():
        return create_request(
            actor,
            kind,
            subject,
            payload,
            reason,
            department_id=department_id,
            subject_user_id=subject_user_id,
            summary=summary,
        )


def create_request(
    actor: Actor,
    kind: str,
    subject: Any,
    payload: dict[str, Any],
    reason: str,
    *,
    department_id: int | None = None,
    subject_user_id: int | None = None,
    summary: str | None = None,
) -> ApprovalRequest:
    """`request_approval` inside the caller's transaction (nothing is committed here).

    For a service whose own change and the request must commit together (a refund that reserves money and
    waits for approval). Call it before the service's own `audit.record`, as the reference must be taken
    before the audit chain is locked; an ApprovalError leaves the caller to roll back.
    """
    registered = get_kind(kind)
    if registered is None:
        raise ApprovalError(_l("Für diesen Vorgang ist keine Freigabe vorgesehen."), "unknown_kind")
    if actor.user is None or actor.token is not None:
        raise ApprovalError(_l("Eine Freigabe kann nur eine angemeldete Person beantragen."), "not_allowed")
    if registered.department_scoped and department_id is None:
        raise ValueError(f"approval kind {kind!r} is department-scoped: pass department_id")
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalError(_l("Geben Sie einen Grund an."), "reason_required", field="reason")
    if len(reason) > REASON_MAX:
        raise ApprovalError(
            _l("Der Grund darf höchstens %(max)s Zeichen lang sein.", max=REASON_MAX), "too_long", field="reason"
        )
    json.dumps(payload)  # fails here, not at commit, if the payload cannot be stored
    subject_type, subject_id = _subject_of(subject)
    requester_id = actor.user.id

    if _open_request_for(kind, subject_type, subject_id) is not None:
        raise ApprovalError(_l("Für diesen Vorgang wartet schon eine Freigabe."), "already_open")
    # The reference before the audit event: counter lock, then audit-chain lock (see portal.references).
    request = ApprovalRequest(
        reference=next_reference(REFERENCE_PREFIX),
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=dict(payload),
        reason=reason,
        requested_by_id=requester_id,
        requested_at=utcnow(),
        department_id=department_id,
        subject_user_id=subject_user_id,
        state=OPEN,
    )
    text = registered.describe(request) if registered.describe else (summary or f"{registered.label}")
    request.summary = str(text)[:SUMMARY_MAX]
    db.session.add(request)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request for the same thing was committed a moment ago (the partial unique index).
        raise ApprovalError(_l("Für diesen Vorgang wartet schon eine Freigabe."), "already_open") from None
    audit.record(
        "approval.requested",
        actor,
        target=request,
        subject_user_id=citizen_of(registered, request),
        reference=request.reference,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason,
        payload=request.payload,
        department_id=department_id,
    )
    return request


def _open_request_for(kind: str, subject_type: str, subject_id: str) -> ApprovalRequest | None:
    return db.session.scalar(
        sa.select(ApprovalRequest).where(
            ApprovalRequest.kind == kind,
            ApprovalRequest.subject_type == subject_type,
            ApprovalRequest.subject_id == subject_id,
            ApprovalRequest.state == OPEN,
        )
    )


def open_request_for(kind: str, subject: Any) -> ApprovalRequest | None:
    """The request waiting for a decision about `subject`, if any (e.g. to show "Erstattung wartet auf Freigabe")."""
    return _open_request_for(kind, *_subject_of(subject))
