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

This module holds asking for a refund and reading them. The approval kind and its callbacks live in
refund_decisions, sending and the provider's confirmation in refund_sending, the ends of a refund (rejected,
succeeded, failed) and the lock every refund change takes in refund_outcomes; the names callers use
(send_approved_refunds, confirm_refund, apply_refund_outcome, register_kind) are importable here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

import payments.actions  # noqa: F401  (declares the audit actions)
from payments.errors import PaymentError
from payments.models import MANUAL_PAYOUT_PREFIX, Payment, PaymentStatus, Refund, RefundStatus
from payments.services import orders
from payments.services.receipts import euro_text
from payments.services.refund_decisions import (  # register_kind is re-exported: payments.register calls it
    APPROVAL_KIND,
    REQUESTER_ROLE,
    register_kind,  # noqa: F401
)
from payments.services.refund_outcomes import lock_refund
from payments.services.refund_sending import (  # re-exported: the sweeper, webhooks and tests call them here
    SendReport,  # noqa: F401
    apply_refund_outcome,  # noqa: F401
    confirm_refund,  # noqa: F401
    send_approved_refunds,  # noqa: F401
)
from portal.actors import Actor
from portal.approvals import services as approvals
from portal.approvals.models import ApprovalRequest
from portal.audit import services as audit
from portal.extensions import db
from portal.transaction import transaction

SCOPE = "payments"
REASON_MAX = 500
REFUNDABLE = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})


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
        payment, refund = lock_refund(refund_id)
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
