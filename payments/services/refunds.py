"""Refunds: asked for by the treasury (or an API client, or another service), decided by a second treasury person.

The life of a refund:

    awaiting_approval ──► rejected                      (reservation released)
           │
           ▼ approved (four eyes, portal.approvals)
        pending ──► succeeded                           (refunded_cents grows, the payment follows)
           └──────► failed                              (reservation released)

Money is reserved when the refund is asked for: a conditional UPDATE raises `refund_reserved_cents` only while
it stays within the amount paid, so two people (or two API calls) refunding at the same moment can never
promise more than was paid; the database's CHECK says the same. The reservation is given back when the refund
is rejected, withdrawn or fails, and turns into `refunded_cents` when the provider confirms it.

The provider is never called inside a transaction: approval marks the refund `pending`, and
`send_approved_refunds` (right after the decision, and from the sweeper) asks the provider with the refund's
idempotency key and stores the answer. The sandbox confirms at once; Stripe usually answers "pending" and
confirms by webhook, which arrives through `confirm_refund`. A refund stays pending until the provider confirms.
A payment that came by bank transfer is the exception: no provider holds its money, so its approved refund is
never sent; it waits as a manual payout until the treasury confirms its own transfer (payments.services.payouts).

Who may ask: a signed-in treasury person (the approval request is created with the refund, in one transaction),
or an API client with the scope `payments` and other services through `refund_for_case`: their refunds wait,
money reserved, until a treasury person puts them up for approval (`submit_for_approval`), since the core's
four-eyes rule needs a person as the requester. Either way two people see every refund before money moves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import after_this_request, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden

import payments.actions  # noqa: F401  (declares the audit actions)
from payments import state
from payments.errors import PaymentError, PaymentNotFound, ProviderError
from payments.models import MANUAL_PAYOUT_PREFIX, Payment, PaymentStatus, Refund, RefundStatus
from payments.providers import provider_for
from payments.services import orders, payouts
from payments.services.receipts import euro_text
from portal.actors import Actor
from portal.approvals import services as approvals
from portal.approvals.models import ApprovalRequest
from portal.audit import services as audit
from portal.extensions import db
from portal.references import format_kassenzeichen
from portal.timeutil import utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

APPROVAL_KIND = "payments.refund"
SCOPE = "payments"
REQUESTER_ROLE = "treasury"
REASON_MAX = 500
OUTCOMES = ("pending", "succeeded", "failed")
REFUNDABLE = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
SENDER = Actor("system", label="payments-refunds")
BATCH = 50


# --- who may ask ------------------------------------------------------------------------------------------


def may_request(actor: Actor) -> bool:
    """A treasury person, or an API token carrying the scope `payments`."""
    if actor.token is not None:
        return SCOPE in actor.scopes
    return actor.has_role(REQUESTER_ROLE)


def _is_person(actor: Actor) -> bool:
    return actor.user is not None and actor.token is None


def may_submit(actor: Actor) -> bool:
    """Who may put an API client's or another service's refund up for the decision: a treasury person."""
    return _is_person(actor) and actor.has_role(REQUESTER_ROLE)


def is_refundable(payment: Payment) -> bool:
    """Paid, and not all of it refunded or asked for yet."""
    return PaymentStatus(payment.status) in REFUNDABLE and payment.refundable_cents > 0


# --- asking -----------------------------------------------------------------------------------------------


def _reserve(payment_id: int, amount_cents: int) -> bool:
    """Raise the reservation by `amount_cents` if it stays within the amount paid; whether it did.

    The condition is evaluated by the database on the row as it is when the UPDATE gets it: on PostgreSQL a
    concurrent reservation waits for the first one's row lock and then sees its result, so the two together
    can never exceed the amount.
    """
    result = db.session.execute(
        sa.update(Payment)
        .where(
            Payment.id == payment_id,
            Payment.status.in_([s.value for s in REFUNDABLE]),
            Payment.refund_reserved_cents + amount_cents <= Payment.amount_cents,
        )
        .values(refund_reserved_cents=Payment.refund_reserved_cents + amount_cents)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _release(payment_id: int, amount_cents: int) -> None:
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id == payment_id)
        .values(refund_reserved_cents=Payment.refund_reserved_cents - amount_cents)
        .execution_options(synchronize_session=False)
    )


def _over_refundable(payment_id: int) -> PaymentError:
    left = db.session.scalar(
        sa.select(Payment.amount_cents - Payment.refund_reserved_cents).where(Payment.id == payment_id)
    )
    return PaymentError(
        "amount_cents",
        _(
            "Es können höchstens %(left)s erstattet werden (bezahlter Betrag abzüglich beantragter und "
            "erfolgter Erstattungen).",
            left=euro_text(max(left or 0, 0)),
        ),
        "over_refundable",
        409,
    )


def _new_refund(actor: Actor, payment: Payment, amount_cents: int, reason: str, client: str | None) -> Refund:
    """Reserve the amount and add the refund row, in the caller's transaction."""
    if not _reserve(payment.id, amount_cents):
        raise _over_refundable(payment.id)
    # Counted after the reservation: on PostgreSQL that UPDATE holds the payment's row lock until we commit,
    # so a concurrent request counts after our row is there, and the idempotency keys never collide.
    number = db.session.scalar(sa.select(sa.func.count(Refund.id)).where(Refund.payment_id == payment.id)) or 0
    refund = Refund(
        payment_id=payment.id,
        amount_cents=amount_cents,
        reason=reason,
        status=RefundStatus.AWAITING_APPROVAL.value,
        requested_by=actor.user.id if actor.user is not None else None,
        requested_by_client=client,
        idempotency_key=f"stadtportal-refund-{payment.public_id}-{number + 1}",
    )
    db.session.add(refund)
    db.session.flush()
    return refund


def _open_approval(actor: Actor, payment: Payment, refund: Refund) -> ApprovalRequest:
    request = approvals.create_request(
        actor,
        APPROVAL_KIND,
        refund,
        {"refund_id": refund.id, "amount_cents": refund.amount_cents, "kassenzeichen": payment.kassenzeichen},
        refund.reason,
    )
    refund.approval_request_id = request.id
    return request


def _client_of(actor: Actor) -> str | None:
    return f"token:{actor.token.id}" if actor.token is not None else None


def request_refund(actor: Actor, public_id: str, amount_cents: Any, reason: Any) -> Refund:
    """Ask for a refund of `amount_cents` of a paid payment; returns it awaiting approval (money reserved).

    A treasury person's request goes up for the four-eyes decision at once (they cannot decide it themselves);
    an API client's waits for a treasury person to put it up (`submit_for_approval`). Refused: not allowed
    (403), unknown payment (PaymentNotFound), not paid (409 not_paid), more than is left (409
    over_refundable), bad amount or reason (422).
    """
    if not may_request(actor):
        raise Forbidden()
    payment = orders.get_payment(actor, public_id)
    amount = orders._clean_amount(amount_cents)
    reason_text = orders._clean_text(reason, "reason", REASON_MAX)
    if PaymentStatus(payment.status) not in REFUNDABLE:
        raise PaymentError("payment", _("Nur bezahlte Zahlungen können erstattet werden."), "not_paid", 409)
    with transaction():
        refund = _new_refund(actor, payment, amount, reason_text, _client_of(actor))
        approval = _open_approval(actor, payment, refund) if _is_person(actor) else None
        audit.record(
            "payment.refund_requested",
            actor,
            target=refund,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            amount_cents=amount,
            reason=reason_text,
            approval=approval.reference if approval is not None else None,
        )
    return refund


def create_case_refunds(actor: Actor, service: str, case_reference: str, reason: str) -> list[Refund]:
    """`refund_for_case` inside the caller's transaction (e.g. the booking's cancellation).

    Call it before your own `audit.record` in that transaction: it locks the payments first, as every payment
    change does, so it cannot deadlock with a webhook holding a payment and waiting for the audit chain.
    """
    reason_text = orders._clean_text(reason, "reason", REASON_MAX)
    created = []
    for found in orders.payments_for_case(service, case_reference):
        if PaymentStatus(found.status) not in REFUNDABLE:
            continue
        payment = orders._lock(found.id)
        left = payment.amount_cents - payment.refund_reserved_cents
        if left <= 0:
            continue  # refunded, or already asked for: asking twice for the same case changes nothing
        refund = _new_refund(actor, payment, left, reason_text, f"service:{service}"[:64])
        audit.record(
            "payment.refund_requested",
            actor,
            target=refund,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            amount_cents=left,
            reason=reason_text,
            approval=None,
            service=service,
            case_reference=case_reference,
        )
        created.append(refund)
    return created


def refund_for_case(actor: Actor, service: str, case_reference: str, reason: str) -> list[Refund]:
    """The refund policy hook for other services: ask for whatever is left of the case's paid payments.

    The calling service decides when its policy refunds (a paid booking cancelled in time, say); the refunds
    then wait for the treasury like an API client's (a treasury person puts them up, a second one decides).
    Calling it again for the same case asks for nothing more. Returns the refunds asked for.
    """
    with transaction():
        return create_case_refunds(actor, service, case_reference, reason)


def submit_for_approval(actor: Actor, refund_id: int) -> ApprovalRequest:
    """A treasury person puts a refund asked for by an API client or another service up for the decision."""
    if not may_submit(actor):
        raise Forbidden()
    with transaction():
        payment, refund = _take(refund_id)
        if refund.status != RefundStatus.AWAITING_APPROVAL.value or refund.approval_request_id is not None:
            raise PaymentError("refund", _("Diese Erstattung wartet nicht auf eine Vorlage."), "not_awaiting", 409)
        try:
            request = _open_approval(actor, payment, refund)
        except approvals.ApprovalError as error:
            raise PaymentError("refund", str(error.message), error.code, 409) from None
        audit.record(
            "payment.refund_submitted",
            actor,
            target=refund,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            amount_cents=refund.amount_cents,
            approval=request.reference,
        )
    return request


# --- the decision (inside the core's deciding transaction) ---------------------------------------------


def _take(refund_id: int) -> tuple[Payment, Refund]:
    """The refund and its payment, both locked, payment first (the order every refund change uses)."""
    payment_id = db.session.scalar(sa.select(Refund.payment_id).where(Refund.id == refund_id))
    if payment_id is None:
        raise PaymentNotFound()
    payment = orders._lock(payment_id)
    refund = db.session.scalar(
        sa.select(Refund).where(Refund.id == refund_id).with_for_update().execution_options(populate_existing=True)
    )
    assert refund is not None
    return payment, refund


def _awaiting(request: ApprovalRequest) -> tuple[Payment, Refund]:
    payment, refund = _take(int(request.payload["refund_id"]))
    if refund.status != RefundStatus.AWAITING_APPROVAL.value:
        raise approvals.ApprovalError(_l("Diese Erstattung kann nicht mehr entschieden werden."), "refund_finished")
    return payment, refund


def on_approved(actor: Actor, request: ApprovalRequest) -> None:
    """Approved: the refund is pending and will be sent to the provider once the decision is committed; a
    refund of a bank transfer waits for the treasury's own transfer instead."""
    payment, refund = _awaiting(request)
    refund.status = RefundStatus.PENDING.value
    audit.record(
        "payment.refund_approved",
        actor,
        target=refund,
        subject_user_id=payment.payer_user_id,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=refund.amount_cents,
        approval=request.reference,
    )
    if payouts.is_manual(payment):
        payouts.open_payout(actor, payment, refund)
    elif has_request_context():
        # After the view has returned, i.e. after the decision's commit: the provider is never called while
        # the decision's locks are held, and a rolled-back decision leaves nothing pending to send.
        after_this_request(_send_after_response)


def _send_after_response(response: Any) -> Any:
    try:
        send_approved_refunds()
    except Exception:  # the decision stands; the sweeper sends what is left
        db.session.rollback()
        log.exception("sending approved refunds after the decision failed")
    return response


def on_rejected(actor: Actor, request: ApprovalRequest) -> None:
    payment, refund = _awaiting(request)
    _close_unapproved(actor, payment, refund, request.decision_note or "rejected")


def _close_unapproved(actor: Actor, payment: Payment, refund: Refund, reason: str) -> None:
    refund.status = RefundStatus.REJECTED.value
    refund.finished_at = utcnow()
    _release(payment.id, refund.amount_cents)
    audit.record(
        "payment.refund_rejected",
        actor,
        target=refund,
        subject_user_id=payment.payer_user_id,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=refund.amount_cents,
        reason=reason,
    )


def describe(request: ApprovalRequest) -> str:
    return _(
        "Erstattung von %(amount)s für Kassenzeichen %(kz)s",
        amount=euro_text(int(request.payload["amount_cents"])),
        kz=format_kassenzeichen(str(request.payload["kassenzeichen"])),
    )


def approval_kind() -> approvals.ApprovalKind:
    return approvals.ApprovalKind(
        name=APPROVAL_KIND,
        label=_l("Erstattung einer Zahlung"),
        decider_roles=(REQUESTER_ROLE,),
        on_approved=on_approved,
        on_rejected=on_rejected,
        describe=describe,
        # The payer reads the refund's own events in their Protokoll; the approval's would only repeat them.
        citizen_visible=False,
    )


# --- sending and confirming ---------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    confirmed: int = 0  # the provider's answer already settled it (the sandbox: succeeded)
    errors: int = 0  # provider unreachable: tried again on the next run
    released: int = 0  # approvals withdrawn or expired: reservations given back


def release_withdrawn() -> int:
    """Give back the reservations of refunds whose approval request was withdrawn or expired (the core's
    withdraw has no callback); how many."""
    ids = list(
        db.session.scalars(
            sa.select(Refund.id)
            .join(ApprovalRequest, ApprovalRequest.id == Refund.approval_request_id)
            .where(
                Refund.status == RefundStatus.AWAITING_APPROVAL.value,
                ApprovalRequest.state.in_(("withdrawn", "expired")),
            )
            .limit(BATCH)
        )
    )
    released = 0
    for refund_id in ids:
        with transaction():
            payment, refund = _take(refund_id)
            if refund.status == RefundStatus.AWAITING_APPROVAL.value:
                _close_unapproved(SENDER, payment, refund, "approval_withdrawn")
                released += 1
    return released


def send_approved_refunds() -> SendReport:
    """Send every approved refund the provider has not been told of yet; safe to run any time, from anywhere.

    Called after an approval and by the sweeper. The provider gets the refund's idempotency key, so asking
    again after a crash (answer received, not stored) gives the same refund at Stripe, not a second one.
    """
    report = SendReport(released=release_withdrawn())
    ids = list(
        db.session.scalars(
            sa.select(Refund.id)
            .where(Refund.status == RefundStatus.PENDING.value, Refund.provider_reference.is_(None))
            .order_by(Refund.id)
            .limit(BATCH)
        )
    )
    for refund_id in ids:
        refund = db.session.get(Refund, refund_id, populate_existing=True)
        if refund is None or refund.status != RefundStatus.PENDING.value or refund.provider_reference:
            continue
        payment = refund.payment
        if payouts.is_manual(payment):
            # Approved without its payout opened (before payouts existed): no provider can pay it back.
            with transaction():
                payment, refund = _take(refund_id)
                if refund.status == RefundStatus.PENDING.value and refund.provider_reference is None:
                    payouts.open_payout(SENDER, payment, refund)
            continue
        try:
            remote = provider_for(payment.provider).refund(payment, refund)
        except ProviderError:
            log.warning("refund %s could not be sent to %s; retried later", refund_id, payment.provider, exc_info=True)
            db.session.rollback()
            report.errors += 1
            continue
        with transaction():
            payment, refund = _take(refund_id)
            if refund.provider_reference is not None or refund.status != RefundStatus.PENDING.value:
                continue  # another sender, or the provider's webhook, was quicker
            refund.provider_reference = remote.provider_reference
            refund.sent_at = utcnow()
            audit.record(
                "payment.refund_sent",
                SENDER,
                target=refund,
                subject_user_id=payment.payer_user_id,
                kassenzeichen=payment.kassenzeichen,
                amount_cents=refund.amount_cents,
                provider=payment.provider,
                provider_reference=remote.provider_reference,
            )
            report.sent += 1
            if remote.status in ("succeeded", "failed"):
                _finish(SENDER, payment, refund, remote.status, reason="provider_answer")
                report.confirmed += 1
    return report


def _finish(
    actor: Actor,
    payment: Payment,
    refund: Refund,
    outcome: str,
    *,
    reason: str,
    event_id: str | None = None,
    failure_reason: str | None = None,
) -> None:
    refund.finished_at = utcnow()
    if outcome == "succeeded":
        refund.status = RefundStatus.SUCCEEDED.value
        db.session.execute(
            sa.update(Payment)
            .where(Payment.id == payment.id)
            .values(refunded_cents=Payment.refunded_cents + refund.amount_cents)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(payment)
        audit.record(
            "payment.refund_succeeded",
            actor,
            target=refund,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            amount_cents=refund.amount_cents,
            event_id=event_id,
        )
        new = state.after_refunds(payment.amount_cents, payment.refunded_cents)
        orders.move(actor, payment, new, reason="refund_succeeded", refund_id=refund.id, event_id=event_id)
    else:
        refund.status = RefundStatus.FAILED.value
        refund.failure_reason = (failure_reason or reason)[:200]
        _release(payment.id, refund.amount_cents)
        audit.record(
            "payment.refund_failed",
            actor,
            target=refund,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            amount_cents=refund.amount_cents,
            reason=refund.failure_reason,
            event_id=event_id,
        )


def apply_refund_outcome(
    actor: Actor,
    provider: str,
    provider_reference: str,
    outcome: str,
    event_id: str | None = None,
    *,
    refund_id: int | None = None,
    failure_reason: str | None = None,
) -> str:
    """`confirm_refund` inside the caller's transaction (e.g. after recording the provider's event once)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"refund outcome must be one of {OUTCOMES}, not {outcome!r}")
    found = db.session.scalar(
        sa.select(Refund.id)
        .join(Payment)
        .where(Refund.provider_reference == provider_reference, Payment.provider == provider)
    )
    if found is None and refund_id is not None:
        # The provider's news can overtake our storing of its answer; the refund id we sent along finds it.
        found = db.session.scalar(
            sa.select(Refund.id)
            .join(Payment)
            .where(Refund.id == refund_id, Refund.provider_reference.is_(None), Payment.provider == provider)
        )
    if found is None:
        return "unknown_refund"
    payment, refund = _take(found)
    if refund.provider_reference is None:
        if refund.status != RefundStatus.PENDING.value:
            return "no_change"  # never sent: news about it cannot be ours
        refund.provider_reference = provider_reference
        refund.sent_at = refund.sent_at or utcnow()
    if outcome == "pending" or refund.status != RefundStatus.PENDING.value:
        return "no_change"  # a finished refund never changes again; a repeat is a no-op
    _finish(actor, payment, refund, outcome, reason="provider_event", event_id=event_id, failure_reason=failure_reason)
    return "applied"


def confirm_refund(
    actor: Actor,
    provider: str,
    provider_reference: str,
    outcome: str,
    event_id: str | None = None,
    *,
    refund_id: int | None = None,
    failure_reason: str | None = None,
) -> str:
    """The provider's word on a refund: pending → succeeded (the payment becomes partially refunded or
    refunded) or failed (the reservation is released). Idempotent: a repeat, or news about a finished refund,
    changes nothing. Returns "applied", "no_change" or "unknown_refund"."""
    with transaction():
        return apply_refund_outcome(
            actor,
            provider,
            provider_reference,
            outcome,
            event_id,
            refund_id=refund_id,
            failure_reason=failure_reason,
        )


# --- reading ----------------------------------------------------------------------------------------------


def refunds_of(payment: Payment) -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)))


def waiting_for_submission(actor: Actor, limit: int = 100) -> list[Refund]:
    """Refunds asked for by API clients or other services that no treasury person has put up yet."""
    if not actor.has_role(REQUESTER_ROLE) and not actor.has_role("platform_admin"):
        raise Forbidden()
    return list(
        db.session.scalars(
            sa.select(Refund)
            .where(Refund.status == RefundStatus.AWAITING_APPROVAL.value, Refund.approval_request_id.is_(None))
            .order_by(Refund.id)
            .limit(limit)
        )
    )


def unfinished(actor: Actor, limit: int = 100) -> list[Refund]:
    """Approved refunds the provider has not confirmed yet, oldest first (for the treasury's overview); the
    treasury's own transfers are listed by payouts.open_payouts."""
    if not actor.has_role(REQUESTER_ROLE) and not actor.has_role("platform_admin"):
        raise Forbidden()
    return list(
        db.session.scalars(
            sa.select(Refund)
            .where(
                Refund.status == RefundStatus.PENDING.value,
                sa.or_(
                    Refund.provider_reference.is_(None),
                    sa.not_(Refund.provider_reference.startswith(MANUAL_PAYOUT_PREFIX, autoescape=True)),
                ),
            )
            .order_by(Refund.id)
            .limit(limit)
        )
    )


def register_kind(app: Any) -> None:
    approvals.register_kind(app, approval_kind())
