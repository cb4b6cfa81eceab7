"""Payment providers behind one small interface: Stripe, and an offline sandbox for demos and tests.

Only these modules talk to a provider; the rest of the portal (and every other service) asks
`payments.services` for a payment and never sees a provider's API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from flask import current_app

if TYPE_CHECKING:
    from payments.models import Payment, PaymentAttempt, Refund


@dataclass(frozen=True)
class Checkout:
    """Where the payer goes to pay, and how the provider names this attempt."""

    provider_reference: str
    url: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class RemoteState:
    """What the provider says about an attempt when asked (the sweeper asks)."""

    outcome: str | None  # "succeeded", "failed", "expired", or None while it is still open
    method: str | None = None


@dataclass(frozen=True)
class RemoteRefund:
    provider_reference: str
    status: str  # "pending", "succeeded", "failed"
    failure_reason: str | None = None


class Provider(Protocol):
    name: str

    def start(self, payment: Payment, attempt: PaymentAttempt, success_url: str, cancel_url: str) -> Checkout: ...

    def state_of(self, attempt: PaymentAttempt) -> RemoteState: ...

    def refund(self, payment: Payment, refund: Refund) -> RemoteRefund: ...


def provider_for(name: str) -> Provider:
    if name == "sandbox":
        from payments.providers.sandbox import SandboxProvider

        return SandboxProvider()
    if name == "stripe":
        from payments.providers.stripe_provider import StripeProvider

        return StripeProvider.from_config(current_app.config)
    raise LookupError(f"unknown payment provider {name!r}")
