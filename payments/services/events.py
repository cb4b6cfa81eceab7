"""Applying what a provider tells us: each event once, in one transaction with its audit event.

Stripe's webhooks, the sandbox's buttons and the sweeper's findings all arrive here, so there is one path
by which a payment changes because of a provider. An event is recorded by its id before it is applied;
the unique key (provider, event_id) makes a repeated delivery a no-op, even when two deliveries race.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from payments.models import AttemptStatus, PaymentAttempt, ProviderEvent
from payments.services import orders
from portal.actors import Actor
from portal.extensions import db
from portal.transaction import transaction

# What a checkout event means for its attempt. `checkout.session.completed` is only a success when the
# money is there (payment_status "paid"); SEPA debits complete unpaid and succeed or fail later.
CHECKOUT_OUTCOMES = {
    "checkout.session.async_payment_succeeded": AttemptStatus.SUCCEEDED,
    "checkout.session.async_payment_failed": AttemptStatus.FAILED,
    "checkout.session.expired": AttemptStatus.EXPIRED,
    "sandbox.cancelled": AttemptStatus.CANCELLED,
    "sandbox.failed": AttemptStatus.FAILED,
}


@dataclass(frozen=True)
class CheckoutEvent:
    provider: str
    event_id: str
    type: str
    attempt_reference: str  # the provider's name for the attempt (Checkout Session id)
    paid: bool = False  # for checkout.session.completed: payment_status == "paid"
    method: str | None = None


def outcome_of(event: CheckoutEvent) -> AttemptStatus | None:
    if event.type in ("checkout.session.completed", "sandbox.succeeded"):
        return AttemptStatus.SUCCEEDED if event.paid or event.type == "sandbox.succeeded" else None
    return CHECKOUT_OUTCOMES.get(event.type)


def apply_checkout_event(actor: Actor, event: CheckoutEvent) -> str:
    """Apply one checkout event; returns what happened: applied, duplicate, no_change, unknown_attempt."""
    try:
        with transaction():
            attempt = db.session.scalar(
                sa.select(PaymentAttempt).where(
                    PaymentAttempt.provider == event.provider,
                    PaymentAttempt.provider_reference == event.attempt_reference,
                )
            )
            if attempt is not None:
                # Lock the payment first, then re-read the attempt: another event for it (Stripe's `completed`
                # racing the sweeper's finding, say) may have finished it since we read it. The lock comes before
                # the event row, whose foreign key takes a key-share lock on the payment (PostgreSQL): two events
                # each holding that and waiting for the other's FOR UPDATE would deadlock.
                orders._lock(attempt.payment_id)
                db.session.refresh(attempt)
            record = ProviderEvent(
                provider=event.provider,
                event_id=event.event_id,
                type=event.type,
                payment_id=attempt.payment_id if attempt else None,
                outcome="unknown_attempt",
            )
            db.session.add(record)
            db.session.flush()  # the unique key settles a concurrent duplicate here, before any change
            if attempt is None:
                return record.outcome
            outcome = outcome_of(event)
            changed = outcome is not None and orders.finish_attempt(
                actor, attempt, outcome, method=event.method, reason=event.type, event_id=event.event_id
            )
            record.outcome = "applied" if changed else "no_change"
            return record.outcome
    except IntegrityError:
        db.session.rollback()
        return "duplicate"


@dataclass(frozen=True)
class RefundEvent:
    """A provider's news about a refund (Stripe: refund.created / refund.updated / refund.failed)."""

    provider: str
    event_id: str
    type: str
    refund_reference: str  # the provider's refund id
    status: str  # pending, succeeded, failed
    failure_reason: str | None = None
    refund_id: int | None = None  # ours, from the metadata we sent with the refund


# Stripe's refund statuses in our three words; "requires_action" is still under way, "canceled" never paid out.
REFUND_OUTCOMES = {"pending": "pending", "requires_action": "pending", "succeeded": "succeeded", "failed": "failed"}
REFUND_OUTCOMES["canceled"] = "failed"


def apply_refund_event(actor: Actor, event: RefundEvent) -> str:
    """Apply a provider's news about a refund once: "applied", "no_change", "unknown_refund" or "duplicate".

    The refund's payment is locked (inside apply_refund_outcome) before the event row is written, the same
    order as for checkout events, so two deliveries cannot deadlock; a duplicate's rollback undoes nothing real,
    since the first delivery already finished the refund.
    """
    from payments.services import refunds

    outcome = REFUND_OUTCOMES.get(event.status, "pending")
    try:
        with transaction():
            result = refunds.apply_refund_outcome(
                actor,
                event.provider,
                event.refund_reference,
                outcome,
                event.event_id,
                refund_id=event.refund_id,
                failure_reason=event.failure_reason,
            )
            db.session.add(
                ProviderEvent(provider=event.provider, event_id=event.event_id, type=event.type, outcome=result)
            )
            db.session.flush()
            return result
    except IntegrityError:
        db.session.rollback()
        return "duplicate"


def record_event(provider: str, event_id: str, type_: str, outcome: str) -> str:
    """Record an event that changes nothing (an unknown type, say), once; "duplicate" for a repeat."""
    try:
        with transaction():
            db.session.add(ProviderEvent(provider=provider, event_id=event_id, type=type_, outcome=outcome))
            db.session.flush()
            return outcome
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
