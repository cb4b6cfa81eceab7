"""How a refund ends, and the money that follows: rejected before approval, succeeded or failed at the provider.

Every refund change locks the payment first and then the refund (`lock_refund`); the helpers here run inside the
caller's transaction. A rejected or failed refund gives its reservation back; a succeeded one turns it into
`refunded_cents` and moves the payment on (partially refunded or refunded). The life of a refund is drawn in
payments.services.refunds; the deciding is in refund_decisions, the provider's side in refund_sending, the
treasury's own transfers in payouts.
"""

from __future__ import annotations

import sqlalchemy as sa

import payments.actions  # noqa: F401  (declares the audit actions)
from payments import state
from payments.errors import PaymentNotFound
from payments.models import Payment, Refund, RefundStatus
from payments.services import orders
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow


def lock_refund(refund_id: int) -> tuple[Payment, Refund]:
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


def release_reservation(payment_id: int, amount_cents: int) -> None:
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id == payment_id)
        .values(refund_reserved_cents=Payment.refund_reserved_cents - amount_cents)
        .execution_options(synchronize_session=False)
    )


def close_unapproved(actor: Actor, payment: Payment, refund: Refund, reason: str) -> None:
    """Rejected, or its approval withdrawn or expired: the refund ends and its reservation is given back."""
    refund.status = RefundStatus.REJECTED.value
    refund.finished_at = utcnow()
    release_reservation(payment.id, refund.amount_cents)
    audit.record(
        "payment.refund_rejected",
        actor,
        target=refund,
        subject_user_id=payment.payer_user_id,
        kassenzeichen=payment.kassenzeichen,
        amount_cents=refund.amount_cents,
        reason=reason,
    )


def finish_refund(
    actor: Actor,
    payment: Payment,
    refund: Refund,
    outcome: str,
    *,
    reason: str,
    event_id: str | None = None,
    failure_reason: str | None = None,
) -> None:
    """A pending refund succeeded (the payment follows) or failed (the reservation is given back)."""
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
        release_reservation(payment.id, refund.amount_cents)
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
