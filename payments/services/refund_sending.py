"""The provider's side of a refund: sending approved refunds, and taking in the provider's word on them.

Sending happens outside any transaction, with the refund's idempotency key, after the decision has committed and
from the sweeper; the provider answers at once (the sandbox) or later by webhook (`confirm_refund`). Why it is
done this way is told in payments.services.refunds, where these names are importable too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

import payments.actions  # noqa: F401  (declares the audit actions)
from payments.errors import ProviderError
from payments.models import Payment, Refund, RefundStatus
from payments.providers import provider_for
from payments.services import payouts
from payments.services.refund_outcomes import close_unapproved, finish_refund, lock_refund
from portal.actors import Actor
from portal.approvals.models import ApprovalRequest
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

OUTCOMES = ("pending", "succeeded", "failed")
SENDER = Actor("system", label="payments-refunds")
BATCH = 50


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
            payment, refund = lock_refund(refund_id)
            if refund.status == RefundStatus.AWAITING_APPROVAL.value:
                close_unapproved(SENDER, payment, refund, "approval_withdrawn")
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
                payment, refund = lock_refund(refund_id)
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
            payment, refund = lock_refund(refund_id)
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
                finish_refund(SENDER, payment, refund, remote.status, reason="provider_answer")
                report.confirmed += 1
    return report


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
    payment, refund = lock_refund(found)
    if refund.provider_reference is None:
        if refund.status != RefundStatus.PENDING.value:
            return "no_change"  # never sent: news about it cannot be ours
        refund.provider_reference = provider_reference
        refund.sent_at = refund.sent_at or utcnow()
    if outcome == "pending" or refund.status != RefundStatus.PENDING.value:
        return "no_change"  # a finished refund never changes again; a repeat is a no-op
    finish_refund(
        actor, payment, refund, outcome, reason="provider_event", event_id=event_id, failure_reason=failure_reason
    )
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
