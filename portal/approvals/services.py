"""Four-eyes approval: one person asks, a second person with the right role decides.

A service registers a kind once and then asks for approvals instead of acting directly:

    register_kind(app, ApprovalKind(
        name="payments.refund", label=_l("Erstattung"), decider_roles=("treasury",),
        on_approved=carry_out_refund,            # (actor, request) -> None, runs in the decision's transaction
        describe=lambda r: f"Erstattung von {r.payload['amount_cents'] / 100:.2f} EUR",
        citizen_visible=True,                   # the citizen's Protokoll shows the four events
    ))
    request = request_approval(actor, "payments.refund", order, {"amount_cents": 1500}, reason="doppelt gezahlt",
                               subject_user_id=order.user_id)

`decide` checks that the decider holds one of the kind's roles (in the request's department when the kind is
department-scoped), is a person signed in (not an API client) and is not the requester; the database checks
the last point again. Exactly one decision wins: the state moves from `requested` with a conditional UPDATE,
and a second decider finds it already decided. `on_approved` runs inside the same transaction as the state
change and its audit event, so if the callback raises, nothing is approved and nothing it wrote stays.
The callback must not commit, and effects outside the database (mail, a payment provider) belong in the
outbox or in a job that reads the approved state.

`request_approval`, `decide` and `withdraw` are whole use cases with their own `with transaction():`; call
them on their own, not inside another transaction. `create_request` is `request_approval` inside the caller's
transaction, for a service whose own change must commit together with the request. What the callback needs
later goes into the payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

import portal.approvals.actions  # noqa: F401  (declares the audit actions)
from portal import declarations
from portal.actors import Actor
from portal.approvals.models import OPEN, ApprovalRequest
from portal.audit import services as audit
from portal.extensions import db
from portal.references import next_reference
from portal.timeutil import utcnow
from portal.transaction import transaction

REFERENCE_PREFIX = "FRG"  # Freigabe
KIND_NAME_RE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
REASON_MAX = 2000
NOTE_MAX = 2000
SUMMARY_MAX = 500
_REGISTRY_KEY = "stadtportal_approval_kinds"


@dataclass(frozen=True)
class ApprovalKind:
    """What a service lets a second person decide.

    name            "<service>.<thing>", e.g. "payments.refund"
    label           how people call it ("Erstattung"), lazy_gettext
    decider_roles   any of these roles may decide (never the requester)
    on_approved     (actor, request) -> None: carries the request out, in the decision's transaction
    on_rejected     optional, same shape, e.g. to reopen the case
    on_withdrawn    optional, same shape, when the requester takes the request back (or `close_request` closes it)
    describe        (request) -> str: the summary the decider reads; stored with the request
    department_scoped  requests name a department, and a department role counts only there
    citizen_visible the events carry request.subject_user_id, so the citizen sees them in their Protokoll
    """

    name: str
    label: Any
    decider_roles: tuple[str, ...]
    on_approved: Callable[[Actor, ApprovalRequest], None]
    on_rejected: Callable[[Actor, ApprovalRequest], None] | None = None
    on_withdrawn: Callable[[Actor, ApprovalRequest], None] | None = None
    describe: Callable[[ApprovalRequest], str] | None = None
    department_scoped: bool = False
    citizen_visible: bool = False


class ApprovalError(Exception):
    """A rule refused the request or the decision. `field` names the form field, `code` the rule."""

    def __init__(self, message: Any, code: str, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field


# The refusals that mean "not you": the web answers them with 403.
FORBIDDEN_CODES = frozenset({"own_request", "not_allowed", "not_requester"})


def register_kind(app: Flask, kind: ApprovalKind) -> ApprovalKind:
    """Make a kind known (call from the service's register(app)); a name used twice stops the start-up."""
    if not KIND_NAME_RE.fullmatch(kind.name) or len(kind.name) > 64:
        raise ValueError(f"approval kind {kind.name!r} must look like 'service.thing' (lowercase)")
    if not kind.decider_roles:
        raise ValueError(f"approval kind {kind.name!r} names no role that may decide")
    unknown = sorted(set(kind.decider_roles) - declarations.roles(app).keys())
    if unknown:
        raise ValueError(f"approval kind {kind.name!r} names undeclared roles {', '.join(unknown)}; declare them first")
    registry: dict[str, ApprovalKind] = app.extensions.setdefault(_REGISTRY_KEY, {})
    if kind.name in registry and registry[kind.name] is not kind:
        raise ValueError(f"approval kind {kind.name!r} is registered twice")
    registry[kind.name] = kind
    return kind


def registered_kinds(app: Flask | None = None) -> dict[str, ApprovalKind]:
    return dict((app or current_app).extensions.get(_REGISTRY_KEY, {}))


def get_kind(name: str) -> ApprovalKind | None:
    return current_app.extensions.get(_REGISTRY_KEY, {}).get(name)


def _subject_of(subject: Any) -> tuple[str, str]:
    if isinstance(subject, tuple) and len(subject) == 2:
        return str(subject[0]), str(subject[1])
    table = getattr(subject, "__tablename__", None)
    identity = getattr(subject, "id", None)
    if table is None or identity is None:
        raise TypeError("subject must be a saved model instance or a (type, id) pair")
    return str(table), str(identity)


def _citizen(kind: ApprovalKind | None, request: ApprovalRequest) -> int | None:
    return request.subject_user_id if kind is not None and kind.citizen_visible else None


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
        subject_user_id=_citizen(registered, request),
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


def holds_decider_role(actor: Actor, request: ApprovalRequest, kind: ApprovalKind | None = None) -> bool:
    """The actor holds one of the kind's roles, in the request's department when the kind is scoped by it."""
    kind = kind or get_kind(request.kind)
    if kind is None or actor.user is None:
        return False
    department_id = request.department_id if kind.department_scoped else None
    return any(actor.has_role(role, department_id) for role in kind.decider_roles)


def can_decide(actor: Actor, request: ApprovalRequest) -> bool:
    """Whether `actor` may decide this request now (shown as the decision form)."""
    return _refusal(actor, request, get_kind(request.kind)) is None


def _refusal(actor: Actor, request: ApprovalRequest, kind: ApprovalKind | None) -> ApprovalError | None:
    if kind is None:
        return ApprovalError(
            _l("Diese Art von Freigabe ist derzeit nicht eingerichtet; sie kann nicht entschieden werden."),
            "unknown_kind",
        )
    if actor.user is None or actor.token is not None:
        return ApprovalError(_l("Freigaben erteilt nur eine angemeldete Person."), "not_allowed")
    if actor.user.id == request.requested_by_id:
        return ApprovalError(
            _l("Sie haben diese Freigabe selbst beantragt. Eine zweite Person muss entscheiden."), "own_request"
        )
    if not holds_decider_role(actor, request, kind):
        return ApprovalError(_l("Sie haben nicht die Rolle, die diese Freigabe erteilen darf."), "not_allowed")
    if not request.is_open:
        return ApprovalError(_l("Über diese Freigabe wurde bereits entschieden."), "not_open")
    return None


def decide(actor: Actor, request_id: int, approve: bool, note: str = "") -> ApprovalRequest:
    """Approve (runs the kind's on_approved) or reject (a note is required) an open request.

    Everything happens in one transaction: the state change, the callback's own writes and the audit event.
    Two people deciding at the same moment: one wins, the other gets ApprovalError(code="not_open").
    """
    note = (note or "").strip()
    with transaction():
        request = db.session.get(ApprovalRequest, request_id)
        if request is None:
            raise NotFound()
        kind = get_kind(request.kind)
        refusal = _refusal(actor, request, kind)
        if refusal is not None:
            raise refusal
        assert kind is not None and actor.user is not None  # _refusal checked both
        if not approve and not note:
            raise ApprovalError(_l("Begründen Sie die Ablehnung."), "note_required", field="note")
        if len(note) > NOTE_MAX:
            raise ApprovalError(
                _l("Die Begründung darf höchstens %(max)s Zeichen lang sein.", max=NOTE_MAX), "too_long", field="note"
            )
        # The guard against a second decider: only one UPDATE finds the request still open. On PostgreSQL
        # a concurrent decider waits for our row lock and then matches nothing; on SQLite for the write lock.
        result = db.session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.id == request.id, ApprovalRequest.state == OPEN)
            .values(
                state="approved" if approve else "rejected",
                decided_by_id=actor.user.id,
                decided_at=utcnow(),
                decision_note=note or None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ApprovalError(_l("Über diese Freigabe wurde bereits entschieden."), "not_open")
        db.session.refresh(request)
        if approve:
            kind.on_approved(actor, request)
        elif kind.on_rejected is not None:
            kind.on_rejected(actor, request)
        audit.record(
            "approval.approved" if approve else "approval.rejected",
            actor,
            target=request,
            subject_user_id=_citizen(kind, request),
            reference=request.reference,
            kind=request.kind,
            requested_by=request.requested_by_id,
            note=note,
        )
    return request


def withdraw(actor: Actor, request_id: int) -> ApprovalRequest:
    """The requester takes back an open request; it can no longer be decided. The kind's `on_withdrawn` runs in
    the same transaction (e.g. to send a case back to its author)."""
    with transaction():
        request = db.session.get(ApprovalRequest, request_id)
        if request is None:
            raise NotFound()
        if actor.user is None or actor.user.id != request.requested_by_id:
            raise ApprovalError(_l("Nur wer die Freigabe beantragt hat, kann sie zurückziehen."), "not_requester")
        _end_without_decision(request)
        kind = get_kind(request.kind)
        if kind is not None and kind.on_withdrawn is not None:
            kind.on_withdrawn(actor, request)
        audit.record(
            "approval.withdrawn",
            actor,
            target=request,
            subject_user_id=_citizen(kind, request),
            reference=request.reference,
            kind=request.kind,
        )
    return request


def close_request(actor: Actor, request: ApprovalRequest, note: str) -> bool:
    """Close an open request that no longer needs a decision, inside the caller's transaction.

    For a service whose case needs several approvals: once one of them is refused (or the case is withdrawn),
    the others must not stay in someone's queue. The request ends as withdrawn with `note` as the reason,
    without calling the kind's callbacks (the caller is already handling the case). Returns False when the
    request was no longer open, e.g. decided a moment ago.
    """
    if not request.is_open:
        return False
    note = (note or "").strip()[:NOTE_MAX]
    try:
        _end_without_decision(request, note=note)
    except ApprovalError:
        return False
    audit.record(
        "approval.closed",
        actor,
        target=request,
        subject_user_id=_citizen(get_kind(request.kind), request),
        reference=request.reference,
        kind=request.kind,
        note=note,
    )
    return True


def _end_without_decision(request: ApprovalRequest, note: str | None = None) -> None:
    # The same conditional UPDATE as a decision, so that closing and deciding cannot both win.
    result = db.session.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.id == request.id, ApprovalRequest.state == OPEN)
        .values(state="withdrawn", decided_at=utcnow(), decision_note=note or None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ApprovalError(_l("Über diese Freigabe wurde bereits entschieden."), "not_open")
    db.session.refresh(request)


def decidable_requests(actor: Actor) -> list[ApprovalRequest]:
    """Open requests this person may decide: not their own, a registered kind, one of its roles held."""
    if actor.user is None or actor.token is not None:
        return []
    kinds = registered_kinds()
    if not kinds:
        return []
    rows = db.session.scalars(
        sa.select(ApprovalRequest)
        .where(
            ApprovalRequest.state == OPEN,
            ApprovalRequest.requested_by_id != actor.user.id,
            ApprovalRequest.kind.in_(kinds),
        )
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
    )
    return [row for row in rows if holds_decider_role(actor, row, kinds[row.kind])]


def own_requests(actor: Actor, limit: int = 50) -> list[ApprovalRequest]:
    """What this person asked for, open ones first, then the newest."""
    if actor.user is None:
        return []
    return list(
        db.session.scalars(
            sa.select(ApprovalRequest)
            .where(ApprovalRequest.requested_by_id == actor.user.id)
            .order_by((ApprovalRequest.state == OPEN).desc(), ApprovalRequest.requested_at.desc())
            .limit(limit)
        )
    )


def get_request_for(actor: Actor, request_id: int) -> ApprovalRequest:
    """A request for its detail page: seen by the requester, the decider, and whoever holds a decider role.

    Anyone else gets 404, so references of other departments' requests do not leak.
    """
    request = db.session.get(ApprovalRequest, request_id)
    if request is None or actor.user is None:
        raise NotFound()
    if actor.user.id in (request.requested_by_id, request.decided_by_id) or holds_decider_role(actor, request):
        return request
    raise NotFound()


def kind_label(name: str) -> Any:
    kind = get_kind(name)
    return kind.label if kind is not None else name
