"""The offline sandbox: a hosted-page look-alike inside the portal where a tester decides the outcome.

No money moves and nothing leaves the machine. The tester's choice comes back as an event through the same
path as Stripe's webhooks (payments.services.events), so the sandbox exercises the real state machine.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from payments.models import Payment, PaymentAttempt, Refund
from payments.providers import Checkout, RemoteRefund, RemoteState
from portal.timeutil import as_utc, utcnow
from portal.urls import absolute_url

SESSION_MINUTES = 30


class SandboxProvider:
    name = "sandbox"

    def start(self, payment: Payment, attempt: PaymentAttempt, success_url: str, cancel_url: str) -> Checkout:
        reference = "sbx_" + secrets.token_hex(12)
        return Checkout(
            provider_reference=reference,
            url=absolute_url("payments.sandbox", reference=reference),
            expires_at=utcnow() + timedelta(minutes=SESSION_MINUTES),
        )

    def state_of(self, attempt: PaymentAttempt) -> RemoteState:
        if attempt.expires_at is not None and as_utc(attempt.expires_at) <= utcnow():
            return RemoteState("expired")
        return RemoteState(None)

    def refund(self, payment: Payment, refund: Refund) -> RemoteRefund:
        return RemoteRefund("sbx_re_" + secrets.token_hex(12), "succeeded")
