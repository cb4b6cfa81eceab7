"""Webhook endpoints of payment providers: `POST /api/v1/payments/webhooks/stripe`.

Public by nature (Stripe holds no token of ours); the signature over the raw body is what authenticates a
delivery, checked in payments.services.webhooks before anything is stored. CSRF does not apply: Stripe sends
no cookies, and portal.api only demands a CSRF token from cookie-carrying requests.
"""

from __future__ import annotations

import marshmallow as ma
from flask import request

from payments.services import webhooks
from portal import access
from portal.api.blueprint import Blueprint
from portal.errors import problem

blp = Blueprint(
    "payments_webhooks_api",
    __name__,
    url_prefix="/api/v1/payments/webhooks",
    description="Notifications from payment providers, authenticated by their signature",
)


class WebhookReceiptSchema(ma.Schema):
    received = ma.fields.Boolean()
    outcome = ma.fields.String(
        metadata={"description": "applied, duplicate, no_change, unknown_attempt, ignored_type, ..."}
    )


@blp.route("/stripe", methods=["POST"])
@blp.response(200, WebhookReceiptSchema)
@blp.alt_response(400, description="Missing, wrong or stale signature, or not a Stripe event; nothing is stored")
@blp.alt_response(404, description="This portal receives no Stripe webhooks (no signing secret configured)")
@blp.doc(
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "A Stripe event"}}},
    }
)
@access.public
def stripe_webhook():
    """A Stripe event, signed with the endpoint's secret (header Stripe-Signature).

    Register this address at Stripe for the events checkout.session.completed,
    checkout.session.async_payment_succeeded, checkout.session.async_payment_failed,
    checkout.session.expired, refund.created, refund.updated and refund.failed. Each event is applied once;
    a repeated delivery is answered 200 and changes nothing.
    """
    try:
        outcome = webhooks.receive(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    except webhooks.WebhooksNotConfigured:
        return problem(404, "Stripe-Webhooks sind hier nicht eingerichtet.")
    except webhooks.WebhookRejected as error:
        return problem(400, str(error), type_="invalid_webhook")
    return {"received": True, "outcome": outcome}
