"""Paying with Stripe Checkout: the real `stripe` library over HTTP against a local double of Stripe's API."""

from __future__ import annotations

import logging
import secrets

import pytest
import sqlalchemy as sa

from payments.errors import PaymentError, ProviderError
from payments.models import PaymentAttempt, Refund, RefundStatus
from payments.providers import RemoteState, provider_for
from payments.services import attempts, orders
from payments.services.orders import Payer
from portal.actors import SYSTEM
from portal.extensions import db
from tests.builders import csrf_from
from tests.payments.builders import make_payment


def _session_of(payment) -> str:
    return orders.latest_attempt(payment).provider_reference


def test_paying_sends_the_payer_to_the_checkout_session_stripe_made(app, client, stripe_double):
    payment = make_payment()
    page = client.get(f"/bezahlen/{payment.public_id}")
    started = client.post(f"/bezahlen/{payment.public_id}/bezahlen", data={"csrf_token": csrf_from(page.text)})
    assert started.status_code == 303
    [session] = stripe_double.sessions.values()
    assert started.headers["Location"] == session["url"] == f"https://checkout.stripe.com/c/pay/{session['id']}"
    db.session.refresh(payment)
    assert payment.status == "started"
    attempt = orders.latest_attempt(payment)
    assert (attempt.provider, attempt.provider_reference) == ("stripe", session["id"])
    assert int(attempt.expires_at.timestamp()) == session["expires_at"]


def test_the_session_carries_our_ids_amount_and_german_locale_but_no_personal_data(app, stripe_double):
    payer = Payer(email="erika.mustermann@example.org")
    payment = make_payment(purpose="Reisepass", amount_cents=7000, payer=payer)
    attempts.start(SYSTEM, payment.public_id)
    [call] = stripe_double.calls("POST", "/v1/checkout/sessions")
    params, attempt = call.params, orders.latest_attempt(payment)
    metadata = {"payment_id": payment.public_id, "attempt_id": str(attempt.id), "kassenzeichen": payment.kassenzeichen}
    assert params["metadata"] == metadata
    assert params["payment_intent_data"]["metadata"] == metadata
    assert params["client_reference_id"] == payment.public_id
    assert (params["mode"], params["locale"]) == ("payment", "de")
    assert params["allowed_payment_method_types"] == ["card", "sepa_debit", "paypal"]
    [item] = params["line_items"]
    assert item["quantity"] == "1"
    assert item["price_data"]["currency"] == "eur" and item["price_data"]["unit_amount"] == "7000"
    assert item["price_data"]["product_data"]["name"] == "Reisepass"
    assert params["success_url"].endswith(f"/bezahlen/{payment.public_id}?zurueck=1")
    assert params["cancel_url"].endswith(f"/bezahlen/{payment.public_id}?abgebrochen=1")
    assert int(params["expires_at"]) == int(attempt.created_at.timestamp()) + 3600
    assert "erika" not in repr(params).lower() and "@" not in repr(params)
    assert "customer_email" not in params
    assert call.headers["idempotency-key"] == attempt.idempotency_key
    assert call.headers["authorization"] == "Bearer sk_test_x"
    assert call.headers["stripe-version"]


def test_the_configured_payment_methods_are_the_ones_offered(app, stripe_double):
    app.config["PAYMENTS_STRIPE_METHODS"] = "card, paypal"
    attempts.start(SYSTEM, make_payment().public_id)
    [call] = stripe_double.calls("POST", "/v1/checkout/sessions")
    assert call.params["allowed_payment_method_types"] == ["card", "paypal"]
    assert "payment_method_types" not in call.params  # refused since API version 2026-09-30.endive


def test_a_500_then_a_200_gives_one_session_under_one_idempotency_key(app, stripe_double):
    stripe_double.fail("/v1/checkout/sessions", times=1, status=500)
    payment = make_payment()
    url = attempts.start(SYSTEM, payment.public_id)
    calls = stripe_double.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2
    assert {c.headers["idempotency-key"] for c in calls} == {orders.latest_attempt(payment).idempotency_key}
    assert calls[0].params == calls[1].params
    [session] = stripe_double.sessions.values()
    assert url == session["url"]


def test_an_answer_lost_on_the_way_back_is_replayed_not_made_twice(app, stripe_double):
    stripe_double.fail("/v1/checkout/sessions", times=1, status=502, after=True)
    payment = make_payment()
    attempts.start(SYSTEM, payment.public_id)
    assert len(stripe_double.calls("POST", "/v1/checkout/sessions")) == 2
    [session] = stripe_double.sessions.values()
    assert _session_of(payment) == session["id"]


def test_stripe_down_asks_the_payer_to_retry_and_the_next_click_reuses_the_attempt(app, client, stripe_double):
    stripe_double.fail("/v1/checkout/sessions", times=3, status=503)  # the first try and both retries
    payment = make_payment()
    page = client.get(f"/bezahlen/{payment.public_id}")
    refused = client.post(f"/bezahlen/{payment.public_id}/bezahlen", data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 303 and refused.headers["Location"].endswith(f"/bezahlen/{payment.public_id}")
    assert "Der Zahlungsdienst ist gerade nicht erreichbar" in client.get(refused.headers["Location"]).text
    assert stripe_double.sessions == {}
    page = client.get(f"/bezahlen/{payment.public_id}")
    again = client.post(f"/bezahlen/{payment.public_id}/bezahlen", data={"csrf_token": csrf_from(page.text)})
    assert again.headers["Location"].startswith("https://checkout.stripe.com/")
    assert db.session.scalar(sa.select(sa.func.count(PaymentAttempt.id))) == 1
    keys = {c.headers["idempotency-key"] for c in stripe_double.calls("POST", "/v1/checkout/sessions")}
    assert len(keys) == 1 and len(stripe_double.sessions) == 1


def test_stripe_refusing_a_request_is_logged_as_an_error_and_not_retried(app, stripe_double, caplog):
    app.config["STRIPE_SECRET_KEY"] = "sk_test_revoked"
    payment = make_payment()
    with (
        caplog.at_level(logging.ERROR, logger="payments.providers.stripe_provider"),
        pytest.raises(PaymentError) as refused,
    ):
        attempts.start(SYSTEM, payment.public_id)
    assert (refused.value.code, refused.value.status) == ("provider_unavailable", 503)
    assert len(stripe_double.calls("POST", "/v1/checkout/sessions")) == 1
    assert "Stripe refused create checkout session: HTTP 401" in caplog.text
    assert "sk_test_revoked" not in caplog.text


def test_a_slow_stripe_is_waited_for(app, stripe_double):
    stripe_double.delay("/v1/checkout/sessions", 0.5)
    url = attempts.start(SYSTEM, make_payment().public_id)
    assert url.startswith("https://checkout.stripe.com/")


@pytest.mark.parametrize(
    ("move", "expected"),
    [
        (lambda double, sid: None, RemoteState(None)),
        (lambda double, sid: double.pay(sid, "paypal"), RemoteState("succeeded", "paypal")),
        (lambda double, sid: double.expire(sid), RemoteState("expired")),
        (lambda double, sid: double.complete_unpaid(sid), RemoteState(None, "sepa_debit")),
        (
            lambda double, sid: (double.complete_unpaid(sid), double.async_result(sid, succeeded=False)),
            RemoteState("failed", "sepa_debit"),
        ),
        (
            lambda double, sid: (double.complete_unpaid(sid), double.async_result(sid, succeeded=True)),
            RemoteState("succeeded", "sepa_debit"),
        ),
    ],
    ids=["open", "paid", "expired", "sepa_pending", "sepa_failed", "sepa_paid"],
)
def test_what_stripe_says_about_a_session_is_read_as_our_outcome(app, stripe_double, move, expected):
    payment = make_payment()
    attempts.start(SYSTEM, payment.public_id)
    move(stripe_double, _session_of(payment))
    assert provider_for("stripe").state_of(orders.latest_attempt(payment)) == expected


def _refund(payment, amount_cents: int) -> Refund:
    refund = Refund(
        payment_id=payment.id,
        amount_cents=amount_cents,
        reason="Termin abgesagt",
        status=RefundStatus.PENDING.value,
        idempotency_key=f"stadtportal-refund-{secrets.token_hex(8)}",
    )
    db.session.add(refund)
    db.session.commit()
    return refund


def _paid(stripe_double):
    from payments.services.events import CheckoutEvent, apply_checkout_event

    payment = make_payment()
    attempts.start(SYSTEM, payment.public_id)
    event = stripe_double.pay(_session_of(payment))
    apply_checkout_event(SYSTEM, CheckoutEvent("stripe", event["id"], event["type"], _session_of(payment), paid=True))
    db.session.refresh(payment)
    assert payment.status == "succeeded"
    return payment


def test_a_refund_is_sent_for_the_payment_intent_once_under_the_refunds_key(app, stripe_double):
    payment = _paid(stripe_double)
    refund = _refund(payment, 1200)
    provider = provider_for("stripe")
    first = provider.refund(payment, refund)
    assert first.status == "succeeded" and first.provider_reference.startswith("re_")
    assert provider.refund(payment, refund) == first  # asked twice (a retry): the same refund
    [remote] = stripe_double.refunds.values()
    intent = stripe_double.sessions[_session_of(payment)]["payment_intent"]
    assert (remote["payment_intent"], remote["amount"]) == (intent, 1200)
    assert remote["metadata"] == {"refund_id": str(refund.id), "payment_id": payment.public_id}
    calls = stripe_double.calls("POST", "/v1/refunds")
    assert {c.headers["idempotency-key"] for c in calls} == {refund.idempotency_key}


def test_a_refund_stripe_has_not_settled_yet_is_pending(app, stripe_double):
    stripe_double.refund_status = "pending"
    payment = _paid(stripe_double)
    assert provider_for("stripe").refund(payment, _refund(payment, 3700)).status == "pending"


def test_a_refund_stripe_refuses_raises_a_provider_error(app, stripe_double):
    payment = _paid(stripe_double)
    provider = provider_for("stripe")
    provider.refund(payment, _refund(payment, 3700))
    with pytest.raises(ProviderError):
        # Nothing left to refund at Stripe (all of it went back already): Stripe answers 400.
        provider.refund(payment, _refund(payment, 100))
    assert len(stripe_double.refunds) == 1
