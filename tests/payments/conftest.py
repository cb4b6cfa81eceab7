"""Payments fixtures: a local HTTP double of Stripe's API, and an app configured to use it.

A test that asks for `stripe_double` gets an app with PAYMENT_PROVIDER=stripe whose real `stripe` library
talks to the double over HTTP; every other test keeps the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.payments.stripe_double import StripeDouble

WEBHOOK_SECRET = "whsec_test"
WEBHOOK_URL = "/api/v1/payments/webhooks/stripe"


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    double = StripeDouble(api_key="sk_test_x").start()
    yield double
    double.stop()


@pytest.fixture
def app_config(app_config: dict, request: pytest.FixtureRequest) -> dict:
    if "stripe_double" not in request.fixturenames:
        return app_config
    double: StripeDouble = request.getfixturevalue("stripe_double")
    return {
        **app_config,
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_API_BASE": double.url,
        "STRIPE_SECRET_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def deliver(client: Any, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> Any:
    """POST a Stripe event to our webhook the way Stripe does: JSON body, signed with the endpoint's secret."""
    body, signature = StripeDouble.signed(event, secret, timestamp)
    return client.post(
        WEBHOOK_URL, data=body, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
    )
