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

This module holds deciding (`decide`, `withdraw`, `close_request`) and the lists people work from. The kinds
and their registry live in portal.approvals.kinds, asking in portal.approvals.requesting, ApprovalError in
portal.approvals.errors; their names are importable here as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

import portal.approvals.actions  # noqa: F401  (declares the audit actions)
from portal.actors import Actor
from portal.approvals.errors import FORBIDDEN_CODES, ApprovalError  # noqa: F401  (re-exported)
from portal.approvals.kinds import (  # re-exported: services register their kinds here
    ApprovalKind,
    citizen_of,
    get_kind,
    kind_label,  # noqa: F401
    register_kind,  # noqa: F401
    registered_kinds,
)
from portal.approvals.models import OPEN, ApprovalRequest
from portal.approvals.requesting import (  # re-exported: services and the views ask for approvals here
    REASON_MAX,  # noqa: F401
    REFERENCE_PREFIX,  # noqa: F401
    create_request,  # noqa: F401
    open_request_for,  # noqa: F401
    request_approval,  # noqa: F401
)
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

NOTE_MAX = 2000


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
            subject_user_id=citizen_of(kind, request),
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
            subject_user_id=citizen_of(kind, request),
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
        subject_user_id=citizen_of(get_kind(request.kind), request),
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
