"""Stripe's webhook deliveries: verified on the raw body, turned into our events, applied once.

The signature is checked before anything is parsed or stored (a forged or replayed delivery leaves no trace),
and nothing here calls Stripe: a delivery is answered in milliseconds, and whatever an event does not say
(which payment method was used, when several were offered) the sweeper fills in later. Events found by the
sweeper through Stripe's event list go through `apply_stripe_event` too, so both arrive by the same path.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app

from payments.providers.stripe_provider import CHECKOUT_EVENT_TYPES
from payments.services import events
from portal.actors import Actor

PROVIDER = "stripe"
STRIPE = Actor("system", label="stripe-webhook")
# Stripe's own default: a delivery signed more than five minutes ago is refused as a possible replay.
TOLERANCE_SECONDS = 300
REFUND_EVENT_TYPES = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
_REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}


class WebhooksNotConfigured(Exception):  # noqa: N818 - reads better at the call site
    """No signing secret: this portal receives no Stripe webhooks."""


class WebhookRejected(Exception):  # noqa: N818
    """Not a delivery from Stripe (or not one we can read): answered 400, nothing stored."""


def _token(value: Any, limit: int = 255) -> str | None:
    """An id or type as Stripe writes them (ASCII, no control characters), else None: anything else in the
    body would otherwise reach the database (NUL and lone surrogates break PostgreSQL's text)."""
    if isinstance(value, str) and 0 < len(value) <= limit and value.isascii() and value.isprintable():
        return value
    return None


def _verified_event(raw: bytes, signature: str | None) -> dict[str, Any]:
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not secret:
        raise WebhooksNotConfigured()
    if not signature or len(signature) > 2000 or not signature.isascii():
        raise WebhookRejected("Die Signatur (Stripe-Signature) fehlt oder ist unlesbar.")
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("Der Inhalt ist kein UTF-8.") from None
    import stripe  # on first use, as in stripe_provider: most workers never receive a webhook

    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, ValueError, TypeError):
        raise WebhookRejected("Die Signatur ist ungültig oder zu alt.") from None
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):
        raise WebhookRejected("Der Inhalt ist kein JSON.") from None
    if not isinstance(event, dict) or not _token(event.get("id")) or not _token(event.get("type"), 100):
        raise WebhookRejected("Der Inhalt ist kein Stripe-Ereignis.")
    return event


def receive(raw: bytes, signature: str | None) -> str:
    """Verify and apply one delivery; what happened (applied, duplicate, no_change, ignored_type, ...)."""
    return apply_stripe_event(STRIPE, _verified_event(raw, signature))


def _object(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not _token(obj.get("id")):
        raise WebhookRejected("Dem Ereignis fehlt das Objekt, um das es geht.")
    return obj


def checkout_event(event: dict[str, Any]) -> events.CheckoutEvent:
    session = _object(event)
    methods = session.get("payment_method_types")
    # The session names the method only when a single one was offered; otherwise the sweeper asks Stripe.
    method = _token(methods[0], 20) if isinstance(methods, list) and len(methods) == 1 else None
    return events.CheckoutEvent(
        provider=PROVIDER,
        event_id=event["id"],
        type=event["type"],
        attempt_reference=session["id"],
        paid=session.get("payment_status") == "paid",
        method=method,
    )


def refund_event(event: dict[str, Any]) -> events.RefundEvent:
    refund = _object(event)
    metadata = refund.get("metadata")
    ours = metadata.get("refund_id") if isinstance(metadata, dict) else None
    reason = refund.get("failure_reason")
    return events.RefundEvent(
        provider=PROVIDER,
        event_id=event["id"],
        type=event["type"],
        refund_reference=refund["id"],
        status=_REFUND_STATUS.get(str(refund.get("status")), "pending"),
        failure_reason=_token(reason, 200),
        refund_id=int(ours) if isinstance(ours, str) and ours.isdigit() and len(ours) < 12 else None,
    )


def apply_stripe_event(actor: Actor, event: dict[str, Any]) -> str:
    """Apply one Stripe event (from a webhook or Stripe's event list) through the one path for each kind."""
    type_ = event["type"]
    if type_ in CHECKOUT_EVENT_TYPES:
        return events.apply_checkout_event(actor, checkout_event(event))
    if type_ in REFUND_EVENT_TYPES:
        return events.apply_refund_event(actor, refund_event(event))
    # Subscribed by mistake or added by Stripe later: recorded, so a repeat is recognised, and otherwise ignored.
    return events.record_event(PROVIDER, event["id"], type_, "ignored_type")
