"""Stripe's webhook: signed with the real scheme, verified on the raw body, each event applied once."""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa

from payments.models import ProviderEvent
from payments.services import attempts, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from portal.actors import SYSTEM
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.conftest import BACKEND
from tests.payments.builders import make_payment
from tests.payments.conftest import WEBHOOK_URL, deliver
from tests.payments.stripe_double import StripeDouble

PAID_CALLS: list[str] = []


@pytest.fixture
def app(app):
    orders.register_success_callback(app, "tests.paid", lambda payment: PAID_CALLS.append(payment.kassenzeichen))
    PAID_CALLS.clear()
    return app


@pytest.fixture
def paying(app, stripe_double):
    """A payment whose payer is on Stripe's page now: (payment, Checkout Session id)."""
    payment = make_payment(on_success="tests.paid")
    attempts.start(SYSTEM, payment.public_id)
    return payment, orders.latest_attempt(payment).provider_reference


def _status(payment) -> str:
    db.session.expire_all()
    return db.session.get(type(payment), payment.id).status


def _events() -> int:
    return db.session.scalar(sa.select(sa.func.count(ProviderEvent.id)))


def test_a_paid_checkout_marks_the_payment_paid_and_runs_the_callback(client, stripe_double, paying):
    payment, session = paying
    response = deliver(client, stripe_double.pay(session))
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "outcome": "applied"}
    assert _status(payment) == "succeeded"
    assert [payment.kassenzeichen] == PAID_CALLS
    change = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "payment.status_changed").order_by(AuditEvent.seq.desc())
    ).first()
    assert '"new":"succeeded"' in change.details and '"reason":"checkout.session.completed"' in change.details


def test_the_webhook_arriving_before_the_payers_redirect_shows_paid_on_return(client, stripe_double, paying):
    _payment, session = paying
    deliver(client, stripe_double.pay(session))
    back = client.get(stripe_double.sessions[session]["success_url"].removeprefix("http://127.0.0.1:5000"))
    assert "Vielen Dank, die Zahlung ist eingegangen" in back.text


def test_the_redirect_before_the_webhook_says_we_are_waiting(client, stripe_double, paying):
    payment, session = paying
    stripe_double.pay(session)  # paid at Stripe, but the webhook is still on its way
    back = client.get(f"/bezahlen/{payment.public_id}?zurueck=1")
    assert "Wir warten auf die Bestätigung" in back.text
    assert _status(payment) == "started"


def test_a_repeated_delivery_is_answered_200_and_changes_nothing(client, stripe_double, paying):
    payment, session = paying
    event = stripe_double.pay(session)
    assert deliver(client, event).get_json()["outcome"] == "applied"
    audited = db.session.scalar(sa.select(sa.func.count(AuditEvent.seq)))
    again = deliver(client, event)
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert [payment.kassenzeichen] == PAID_CALLS
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.seq))) == audited
    assert _events() == 1


def test_expired_arriving_after_a_paid_completion_leaves_it_paid(client, stripe_double, paying):
    payment, session = paying
    completed = stripe_double.pay(session)
    late_expiry = {**completed, "id": "evt_test_late", "type": "checkout.session.expired"}
    late_expiry["data"] = {"object": {**completed["data"]["object"], "status": "expired"}}
    deliver(client, completed)
    assert deliver(client, late_expiry).get_json()["outcome"] == "no_change"
    assert _status(payment) == "succeeded"


def test_a_sepa_debit_completes_unpaid_and_succeeds_later(client, stripe_double, paying):
    payment, session = paying
    assert deliver(client, stripe_double.complete_unpaid(session)).get_json()["outcome"] == "no_change"
    assert _status(payment) == "started"
    assert deliver(client, stripe_double.async_result(session, succeeded=True)).get_json()["outcome"] == "applied"
    assert _status(payment) == "succeeded"
    assert [payment.kassenzeichen] == PAID_CALLS


def test_the_async_success_arriving_before_the_completion_is_applied_once(client, stripe_double, paying):
    payment, session = paying
    completed = stripe_double.complete_unpaid(session)
    succeeded = stripe_double.async_result(session, succeeded=True)
    assert deliver(client, succeeded).get_json()["outcome"] == "applied"
    assert deliver(client, completed).get_json()["outcome"] == "no_change"
    assert _status(payment) == "succeeded" and [payment.kassenzeichen] == PAID_CALLS


def test_a_bounced_sepa_debit_fails_the_payment_and_it_can_be_paid_again(client, stripe_double, paying):
    payment, session = paying
    deliver(client, stripe_double.complete_unpaid(session))
    deliver(client, stripe_double.async_result(session, succeeded=False))
    assert _status(payment) == "failed"
    assert "Die Zahlung ist fehlgeschlagen" in client.get(f"/bezahlen/{payment.public_id}").text
    assert attempts.start(SYSTEM, payment.public_id).startswith("https://checkout.stripe.com/")
    assert len(stripe_double.sessions) == 2


def test_an_expired_session_expires_the_payment(client, stripe_double, paying):
    payment, session = paying
    assert deliver(client, stripe_double.expire(session)).get_json()["outcome"] == "applied"
    assert _status(payment) == "expired"


def test_an_event_for_a_session_that_is_not_ours_is_recorded_and_ignored(client, stripe_double, paying):
    payment, session = paying
    event = stripe_double.pay(session)
    event["data"]["object"]["id"] = "cs_test_somebody_else"
    assert deliver(client, event).get_json()["outcome"] == "unknown_attempt"
    assert _status(payment) == "started"


def test_an_event_type_we_do_not_handle_is_answered_200_and_recorded_once(client, stripe_double):
    event = {"id": "evt_test_customer", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    assert deliver(client, event).get_json()["outcome"] == "ignored_type"
    assert deliver(client, event).get_json()["outcome"] == "duplicate"
    assert _events() == 1


def test_a_refund_event_for_a_refund_that_is_not_ours_is_recorded_once(client, stripe_double):
    event = {
        "id": "evt_test_refund",
        "type": "refund.updated",
        "data": {"object": {"id": "re_1", "object": "refund", "status": "succeeded", "metadata": {"refund_id": "7"}}},
    }
    assert deliver(client, event).get_json()["outcome"] == "unknown_refund"
    assert deliver(client, event).get_json()["outcome"] == "duplicate"
    assert _events() == 1


@pytest.mark.parametrize(
    ("settled", "status", "refunded"), [("succeeded", "refunded", 3700), ("failed", "succeeded", 0)]
)
def test_a_stripe_refund_stays_pending_until_its_webhook_settles_it(
    client, stripe_double, paying, settled, status, refunded
):
    from payments.models import Refund
    from payments.services import refunds
    from portal.actors import Actor
    from portal.approvals.services import decide
    from tests.payments.builders import make_treasurer

    payment, session = paying
    deliver(client, stripe_double.pay(session))
    tina, theo = make_treasurer("tina@stadt.example", "Tina"), make_treasurer("theo@stadt.example", "Theo")
    stripe_double.refund_status = "pending"  # SEPA-style: Stripe answers pending, the outcome follows later
    refund = refunds.request_refund(Actor.for_user(tina), payment.public_id, 3700, "Antrag zurückgenommen")
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
    refunds.send_approved_refunds()
    refund = db.session.get(Refund, refund.id)
    assert refund.status == "pending" and refund.provider_reference.startswith("re_")

    event = stripe_double.settle_refund(refund.provider_reference, settled)
    assert deliver(client, event).get_json()["outcome"] == "applied"
    assert deliver(client, event).get_json()["outcome"] == "duplicate"
    db.session.expire_all()
    payment = db.session.get(type(payment), payment.id)
    assert (db.session.get(Refund, refund.id).status, payment.status) == (settled, status)
    assert (payment.refunded_cents, payment.refund_reserved_cents) == (refunded, refunded)


def _refused(response) -> None:
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 400


def test_a_tampered_body_is_refused_and_nothing_is_stored(client, stripe_double, paying):
    payment, session = paying
    body, signature = StripeDouble.signed(stripe_double.expire(session), "whsec_test")
    tampered = body.replace(b'"checkout.session.expired"', b'"checkout.session.completed"')
    _refused(client.post(WEBHOOK_URL, data=tampered, headers={"Stripe-Signature": signature}))
    assert _events() == 0 and _status(payment) == "started"


def test_a_stale_signature_is_refused_as_a_possible_replay(client, stripe_double, paying):
    payment, session = paying
    _refused(deliver(client, stripe_double.pay(session), timestamp=int(time.time()) - 301))
    assert _events() == 0 and _status(payment) == "started"


def test_a_delivery_signed_with_another_secret_is_refused(client, stripe_double, paying):
    _payment, session = paying
    _refused(deliver(client, stripe_double.pay(session), secret="whsec_someone_else"))
    assert _events() == 0


@pytest.mark.parametrize(
    "signature", [None, "", "t=1", "v1=abc", "t=abc,v1=abc", "t=9999999999999999999999,v1=00", "t=1,v1=ä"]
)
def test_a_missing_or_garbled_signature_header_is_refused(client, stripe_double, paying, signature):
    body, _ = StripeDouble.signed(stripe_double.pay(paying[1]), "whsec_test")
    headers = {} if signature is None else {"Stripe-Signature": signature}
    _refused(client.post(WEBHOOK_URL, data=body, headers=headers))
    assert _events() == 0


def _signed_raw(body: bytes) -> dict[str, str]:
    import stripe

    text = body.decode("utf-8", errors="surrogateescape")
    try:
        return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(text, "whsec_test")}
    except UnicodeEncodeError:
        return {"Stripe-Signature": "t=1,v1=" + "0" * 64}


JUNK = {
    "nul_bytes": b"\x00\x00\x00",
    "not_utf8": b"\xff\xfe{}",
    "not_json": b"{'id': 1}",
    "json_list": b"[]",
    "huge_json_list": json.dumps(["x" * 1000] * 1500).encode(),
    "deeply_nested": b"[" * 100_000 + b"]" * 100_000,
    "wrong_types": json.dumps({"id": 5, "type": ["checkout.session.completed"]}).encode(),
    "nul_in_id": json.dumps({"id": "evt_\x00", "type": "customer.created"}).encode(),
    "surrogate_in_id": b'{"id": "evt_\\ud800", "type": "customer.created"}',
    "huge_id": json.dumps({"id": "evt_" + "9" * 10_000, "type": "customer.created"}).encode(),
    "object_not_a_dict": json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": "x"}).encode(),
    "session_id_number": json.dumps(
        {"id": "evt_2", "type": "checkout.session.expired", "data": {"object": {"id": 12}}}
    ).encode(),
    "refund_id_list": json.dumps({"id": "evt_3", "type": "refund.failed", "data": {"object": {"id": []}}}).encode(),
}


@pytest.mark.parametrize("body", JUNK.values(), ids=JUNK.keys())
def test_junk_bodies_are_a_4xx_even_when_validly_signed(client, stripe_double, body):
    for headers in ({"Stripe-Signature": "t=1,v1=" + "0" * 64}, _signed_raw(body)):
        response = client.post(WEBHOOK_URL, data=body, headers={**headers, "Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:200]
    assert _events() == 0


def test_a_body_over_the_size_cap_is_refused_before_it_is_read(client, stripe_double):
    response = client.post(WEBHOOK_URL, data=b"{" + b" " * (3 * 1024 * 1024) + b"}", headers=_signed_raw(b"{}"))
    assert response.status_code == 413


def test_without_a_signing_secret_the_endpoint_is_not_there(app, client):
    app.config["STRIPE_WEBHOOK_SECRET"] = ""
    event = {"id": "evt_1", "type": "customer.created", "data": {"object": {"id": "x"}}}
    response = deliver(client, event, secret="anything")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_the_webhook_is_in_the_openapi_document_as_public(client, stripe_double):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"][WEBHOOK_URL]["post"]
    assert operation["security"] == [] and {"200", "400"} <= set(operation["responses"])


@pytest.mark.skipif(BACKEND != "postgresql", reason="concurrent writers need PostgreSQL's row locks")
def test_events_racing_for_one_session_are_applied_once_each_and_pay_once(app, stripe_double):
    payments = [make_payment(case_reference=f"T-2026-00000{i}", on_success="tests.paid") for i in range(5)]
    deliveries, findings = [], []
    for payment in payments:
        attempts.start(SYSTEM, payment.public_id)
        session = orders.latest_attempt(payment).provider_reference
        succeeded = [stripe_double.complete_unpaid(session), stripe_double.async_result(session, succeeded=True)]
        deliveries += [*succeeded, succeeded[1]]  # the last one twice
        # The sweeper finding the same success at the same moment.
        findings.append(CheckoutEvent("stripe", f"sweep:{session}:succeeded", succeeded[0]["type"], session, True))
    barrier = threading.Barrier(len(deliveries) + len(findings))
    answers: list[int] = []

    def post(event):
        body, signature = StripeDouble.signed(event, "whsec_test")
        client = app.test_client()
        barrier.wait()
        answers.append(client.post(WEBHOOK_URL, data=body, headers={"Stripe-Signature": signature}).status_code)

    def sweep_finds(event):
        with app.app_context():
            barrier.wait()
            apply_checkout_event(SYSTEM, event)

    threads = [threading.Thread(target=post, args=(event,)) for event in deliveries]
    threads += [threading.Thread(target=sweep_finds, args=(event,)) for event in findings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * len(deliveries)
    db.session.expire_all()
    for payment in payments:
        assert (_status(payment), orders.latest_attempt(payment).status) == ("succeeded", "succeeded")
        outcomes = db.session.scalars(sa.select(ProviderEvent.outcome).where(ProviderEvent.payment_id == payment.id))
        assert sorted(outcomes) == ["applied", "no_change", "no_change"]
    assert sorted(PAID_CALLS) == sorted(p.kassenzeichen for p in payments)
