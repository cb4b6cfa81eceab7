"""Stripe Checkout: one Checkout Session per attempt, asked for with the attempt's own idempotency key.

Every request to Stripe is derived from our rows alone (amount, purpose, ids, the attempt's creation time), so
asking again after a crash or a lost answer sends the very same parameters under the same key, and Stripe
answers with the session it already made instead of a second one (it refuses a key reused with other
parameters). No personal data leaves for Stripe: metadata carries our ids and the Kassenzeichen; the payer
types their own details on Stripe's page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from payments.errors import ProviderError
from payments.models import AttemptStatus, Payment, PaymentAttempt, Refund
from payments.providers import Checkout, RemoteRefund, RemoteState
from portal.references import format_kassenzeichen
from portal.timeutil import as_utc

if TYPE_CHECKING:
    import stripe

log = logging.getLogger(__name__)

# Stripe accepts 30 minutes to 24 hours. An hour is enough to pay and short enough that an abandoned attempt
# ends soon; the sweeper stops re-asking for a session well before the 30-minute minimum would be missed.
SESSION_MINUTES = 60
# The library retries connection errors, 409 and 5xx (with the same idempotency key) this often.
NETWORK_RETRIES = 2
TIMEOUT = (5.0, 20.0)  # connect, read: a payer waits for this at most, times the retries
CHECKOUT_EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
)
_REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}
# The payment never came and cannot come any more (a SEPA debit bounced, the intent was cancelled).
_INTENT_FAILED = {"requires_payment_method", "canceled"}

T = TypeVar("T")


@lru_cache(maxsize=8)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    """One client per key and address, reused so that its HTTP connections are kept alive."""
    # Imported on first use: the library and its HTTP stacks are about 20 MB of every worker's memory, and most
    # requests (a booking, a page) never talk to Stripe.
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
        max_network_retries=NETWORK_RETRIES,
    )


def methods_from(setting: str) -> list[str]:
    return [m.strip() for m in str(setting).split(",") if m.strip()]


class StripeProvider:
    name = "stripe"

    def __init__(self, client: stripe.StripeClient, methods: list[str]) -> None:
        self.client = client
        self.methods = methods

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeProvider:
        if not config.get("STRIPE_SECRET_KEY"):
            raise ProviderError("STRIPE_SECRET_KEY is not set")
        client = _client(config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE") or "")
        return cls(client, methods_from(config.get("PAYMENTS_STRIPE_METHODS", "card")))

    def _call(self, what: str, request: Callable[[], T]) -> T:
        import stripe

        try:
            return request()
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as error:
            # Already retried by the library: Stripe is unreachable or overloaded for now.
            log.warning("Stripe unavailable (%s): %s", what, error.__class__.__name__)
            raise ProviderError(what) from error
        except stripe.StripeError as error:
            # A 4xx: our request or our configuration is wrong, and retrying will not help. Someone must look.
            log.error(
                "Stripe refused %s: HTTP %s, %s (%s)",
                what,
                error.http_status,
                error.code,
                error.user_message or error.__class__.__name__,
            )
            raise ProviderError(what) from error

    # --- the Provider protocol ----------------------------------------------------------------------------

    def start(self, payment: Payment, attempt: PaymentAttempt, success_url: str, cancel_url: str) -> Checkout:
        kassenzeichen = format_kassenzeichen(payment.kassenzeichen)
        metadata = {
            "payment_id": payment.public_id,
            "attempt_id": str(attempt.id),
            "kassenzeichen": payment.kassenzeichen,
        }
        expires_at = as_utc(attempt.created_at).replace(microsecond=0) + timedelta(minutes=SESSION_MINUTES)
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": payment.amount_cents,
                        "product_data": {"name": payment.purpose, "description": f"Kassenzeichen {kassenzeichen}"},
                    },
                }
            ],
            "client_reference_id": payment.public_id,
            "metadata": metadata,
            "payment_intent_data": {
                "metadata": metadata,
                "description": f"{payment.purpose} – Kassenzeichen {kassenzeichen}",
            },
            # German, not the browser's language: a retry must send the same parameters (see above), and the
            # payer's language is not stored with the payment.
            "locale": "de",
            # Since API version 2026-09-30 (endive) `payment_method_types` is refused; this filters instead.
            "allowed_payment_method_types": self.methods,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
        }
        session = self._call(
            "create checkout session",
            lambda: self.client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": attempt.idempotency_key},
            ),
        )
        return Checkout(session.id, session.url or "", datetime.fromtimestamp(session.expires_at, UTC))

    def _session(self, reference: str) -> dict[str, Any]:
        session = self._call(
            "retrieve checkout session",
            lambda: self.client.v1.checkout.sessions.retrieve(
                reference, params={"expand": ["payment_intent", "payment_intent.payment_method"]}
            ),
        )
        return session.to_dict()

    def state_of(self, attempt: PaymentAttempt) -> RemoteState:
        if not attempt.provider_reference:
            return RemoteState(None)
        return remote_state(self._session(attempt.provider_reference))

    def refund(self, payment: Payment, refund: Refund) -> RemoteRefund:
        paid = [a for a in payment.attempts if a.status == AttemptStatus.SUCCEEDED.value and a.provider_reference]
        if not paid:
            raise ProviderError("no paid Checkout Session to refund")
        intent = self._session(paid[-1].provider_reference or "").get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
        if not isinstance(intent_id, str):
            raise ProviderError("the Checkout Session has no PaymentIntent")
        params = {
            "payment_intent": intent_id,
            "amount": refund.amount_cents,
            "metadata": {"refund_id": str(refund.id), "payment_id": payment.public_id},
        }
        created = self._call(
            "create refund",
            lambda: self.client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": refund.idempotency_key},
            ),
        )
        return RemoteRefund(created.id, _REFUND_STATUS.get(created.status or "", "pending"))

    # --- for the sweeper ----------------------------------------------------------------------------------

    def refund_state(self, reference: str) -> RemoteRefund:
        """What Stripe says about a refund now (when its webhook may have been lost)."""
        found = self._call("retrieve refund", lambda: self.client.v1.refunds.retrieve(reference)).to_dict()
        reason = found.get("failure_reason")
        return RemoteRefund(
            str(found.get("id") or reference),
            _REFUND_STATUS.get(str(found.get("status")), "pending"),
            reason if isinstance(reason, str) else None,
        )

    def events_since(self, since: datetime, types: tuple[str, ...] = CHECKOUT_EVENT_TYPES) -> Iterator[dict[str, Any]]:
        """Events Stripe has kept (30 days) of these types since `since`, newest first, as plain dicts."""
        page = self._call(
            "list events",
            lambda: self.client.v1.events.list(
                params={"types": list(types), "created": {"gte": int(since.timestamp())}, "limit": 100}
            ),
        )
        pages = page.auto_paging_iter()
        while True:
            event = self._call("list events", lambda: next(pages, None))
            if event is None:
                return
            yield event.to_dict()


def remote_state(session: dict[str, Any]) -> RemoteState:
    """What a Checkout Session (with its PaymentIntent expanded) means for our attempt."""
    intent = session.get("payment_intent")
    intent = intent if isinstance(intent, dict) else {}
    payment_method = intent.get("payment_method")
    method = payment_method.get("type") if isinstance(payment_method, dict) else None
    if session.get("status") == "expired":
        return RemoteState("expired")
    if session.get("status") != "complete":
        return RemoteState(None)
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return RemoteState("succeeded", method)
    if intent.get("status") in _INTENT_FAILED:
        return RemoteState("failed", method)
    return RemoteState(None, method)  # a SEPA debit on its way: paid or bounced in a few days
