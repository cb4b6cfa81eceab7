"""Starting to pay: one attempt at the provider, reused while it is open, never two open at once.

The provider is called between two short transactions, never inside one (a slow provider must not hold
a database lock): first the attempt is recorded with an idempotency key derived from our own rows, then the
provider is asked, then its answer is stored. If the process dies after the provider answered, asking
again with the same key gives the same Checkout Session, so the sweeper (or the payer's next click)
completes the attempt instead of opening a second one.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from payments import state
from payments.errors import PaymentError, ProviderError
from payments.models import AttemptStatus, Payment, PaymentAttempt, PaymentStatus
from payments.providers import provider_for
from payments.services import orders
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction
from portal.urls import absolute_url

# An attempt without an answer from the provider for this long is left to the sweeper.
STALE_AFTER = timedelta(minutes=2)


def _open_attempt(payment: Payment) -> PaymentAttempt | None:
    attempt = orders.latest_attempt(payment)
    if attempt is None or attempt.status != AttemptStatus.STARTED.value:
        return None
    if attempt.expires_at is not None and as_utc(attempt.expires_at) <= utcnow():
        return None
    return attempt


def _urls(payment: Payment) -> tuple[str, str]:
    return (
        absolute_url("payments.status", public_id=payment.public_id, zurueck="1"),
        absolute_url("payments.status", public_id=payment.public_id, abgebrochen="1"),
    )


def start(actor: Actor, public_id: str) -> str:
    """The address where the payer pays now: the open attempt's, or a new attempt's."""
    payment = orders.get_payment_by_link(public_id)
    if PaymentStatus(payment.status) in state.PAID:
        raise PaymentError("payment", _("Diese Zahlung ist bereits bezahlt."), "already_paid", 409)
    if PaymentStatus(payment.status) in state.ENDED:
        raise PaymentError(
            "payment", _("Diese Zahlung wurde zurückgezogen: Es ist nichts mehr zu zahlen."), "withdrawn", 409
        )
    open_attempt = _open_attempt(payment)
    if open_attempt is not None and open_attempt.checkout_url:
        return open_attempt.checkout_url
    with transaction():
        payment = orders._lock(payment.id)
        attempt = _open_attempt(payment)
        if attempt is None:
            number = (
                db.session.scalar(
                    sa.select(sa.func.count(PaymentAttempt.id)).where(PaymentAttempt.payment_id == payment.id)
                )
                or 0
            )
            attempt = PaymentAttempt(
                payment_id=payment.id,
                provider=payment.provider,
                idempotency_key=f"stadtportal-payment-{payment.public_id}-attempt-{number + 1}",
                status=AttemptStatus.STARTED.value,
            )
            db.session.add(attempt)
            db.session.flush()
            orders.move(actor, payment, PaymentStatus.STARTED, reason="attempt_started", attempt_id=attempt.id)
            audit.record(
                "payment.attempt_started",
                actor,
                target=attempt,
                subject_user_id=payment.payer_user_id,
                kassenzeichen=payment.kassenzeichen,
                provider=payment.provider,
            )
        attempt_id = attempt.id
    return complete(actor, attempt_id)


def complete(actor: Actor, attempt_id: int) -> str:
    """Ask the provider for the attempt's checkout (idempotent) and store its answer; the checkout address."""
    attempt = db.session.get(PaymentAttempt, attempt_id)
    assert attempt is not None
    if attempt.checkout_url:
        return attempt.checkout_url
    payment = attempt.payment
    success_url, cancel_url = _urls(payment)
    try:
        checkout = provider_for(attempt.provider).start(payment, attempt, success_url, cancel_url)
    except ProviderError:
        current_app.logger.warning("payment provider unavailable for attempt %s", attempt_id, exc_info=True)
        raise PaymentError(
            "payment",
            _("Der Zahlungsdienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut."),
            "provider_unavailable",
            503,
        ) from None
    with transaction():
        attempt = db.session.get(PaymentAttempt, attempt_id, with_for_update=True, populate_existing=True)
        assert attempt is not None
        if not attempt.checkout_url:
            attempt.provider_reference = checkout.provider_reference
            attempt.checkout_url = checkout.url
            attempt.expires_at = checkout.expires_at
        return attempt.checkout_url or checkout.url


def sandbox_attempt(reference: str) -> PaymentAttempt | None:
    """The sandbox checkout's attempt by the reference in its address; None for anything else."""
    if not isinstance(reference, str) or not reference.startswith("sbx_") or len(reference) > 40:
        return None
    return db.session.scalar(
        sa.select(PaymentAttempt).where(
            PaymentAttempt.provider == "sandbox", PaymentAttempt.provider_reference == reference
        )
    )
