"""Paying with the offline sandbox: the same attempts, events and state machine as with Stripe."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from payments.errors import PaymentError
from payments.models import PaymentAttempt, ProviderEvent
from payments.services import attempts, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from portal.actors import SYSTEM
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import csrf_from
from tests.payments.builders import make_payment

PAID_CALLS: list[str] = []


@pytest.fixture
def app(app):
    orders.register_success_callback(app, "tests.paid", lambda payment: PAID_CALLS.append(payment.kassenzeichen))
    PAID_CALLS.clear()
    return app


def _pay(client, payment, choice: str):
    """Status page → "Jetzt online bezahlen" → sandbox page → the tester's choice; the final response."""
    page = client.get(f"/bezahlen/{payment.public_id}")
    assert page.status_code == 200
    started = client.post(f"/bezahlen/{payment.public_id}/bezahlen", data={"csrf_token": csrf_from(page.text)})
    assert started.status_code == 303
    sandbox_url = started.headers["Location"]
    assert re.search(r"/bezahlen/test-zahlung/sbx_[0-9a-f]+$", sandbox_url)
    sandbox = client.get(sandbox_url)
    assert "Testzahlung – es fließt kein Geld" in sandbox.text
    done = client.post(sandbox_url, data={"csrf_token": csrf_from(sandbox.text), "ergebnis": choice})
    assert done.status_code == 303
    return client.get(done.headers["Location"])


def test_a_successful_test_payment_shows_paid_from_the_database_and_runs_the_callback(app, client):
    payment = make_payment(on_success="tests.paid")
    page = _pay(client, payment, "succeeded")
    assert "Vielen Dank, die Zahlung ist eingegangen" in page.text
    db.session.refresh(payment)
    assert (payment.status, payment.method) == ("succeeded", "card")
    assert [payment.kassenzeichen] == PAID_CALLS
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["payment.created", "payment.status_changed", "payment.attempt_started", "payment.status_changed"]


def test_a_failed_attempt_can_be_retried_on_the_same_order(app, client):
    payment = make_payment()
    assert "Die Zahlung ist fehlgeschlagen" in _pay(client, payment, "failed").text
    assert "Vielen Dank" in _pay(client, payment, "succeeded").text
    db.session.refresh(payment)
    assert payment.status == "succeeded"
    assert len(payment.attempts) == 2


def test_a_cancelled_payment_says_nothing_was_charged(app, client):
    payment = make_payment()
    assert "Es wurde nichts abgebucht" in _pay(client, payment, "cancelled").text
    db.session.refresh(payment)
    assert payment.status == "cancelled"


def test_the_return_address_alone_never_marks_a_payment_paid(app, client):
    payment = make_payment()
    attempts.start(SYSTEM, payment.public_id)
    page = client.get(f"/bezahlen/{payment.public_id}?zurueck=1")
    assert "Wir warten auf die Bestätigung" in page.text
    db.session.refresh(payment)
    assert payment.status == "started"


def test_an_open_attempt_is_reused_instead_of_opening_a_second(app):
    payment = make_payment()
    first = attempts.start(SYSTEM, payment.public_id)
    assert attempts.start(SYSTEM, payment.public_id) == first
    assert db.session.scalar(sa.select(sa.func.count(PaymentAttempt.id))) == 1


def _attempt_reference(payment) -> str:
    attempts.start(SYSTEM, payment.public_id)
    return orders.latest_attempt(payment).provider_reference


def test_a_repeated_event_is_applied_once(app):
    payment = make_payment(on_success="tests.paid")
    reference = _attempt_reference(payment)
    event = CheckoutEvent("sandbox", "evt_1", "sandbox.succeeded", reference)
    assert apply_checkout_event(SYSTEM, event) == "applied"
    assert apply_checkout_event(SYSTEM, event) == "duplicate"
    assert [payment.kassenzeichen] == PAID_CALLS
    assert db.session.scalar(sa.select(sa.func.count(ProviderEvent.id))) == 1


def test_a_late_failure_of_an_old_attempt_never_undoes_a_newer_one(app):
    payment = make_payment()
    old = _attempt_reference(payment)
    apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_1", "sandbox.cancelled", old))
    new = _attempt_reference(payment)
    assert new != old
    # The old attempt is finished: its late events change nothing.
    assert apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_2", "sandbox.failed", old)) == "no_change"
    db.session.refresh(payment)
    assert payment.status == "started"
    apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_3", "sandbox.succeeded", new))
    db.session.refresh(payment)
    assert payment.status == "succeeded"
    # Nor does anything that arrives for the finished, paid order.
    assert (
        apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_4", "checkout.session.expired", new)) == "no_change"
    )
    db.session.refresh(payment)
    assert payment.status == "succeeded"


def test_an_event_for_an_unknown_session_is_recorded_and_changes_nothing(app):
    outcome = apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_x", "sandbox.succeeded", "sbx_unknown"))
    assert outcome == "unknown_attempt"


def test_a_completed_but_unpaid_checkout_waits_for_the_async_outcome(app):
    payment = make_payment()
    reference = _attempt_reference(payment)
    completed = CheckoutEvent("sandbox", "evt_1", "checkout.session.completed", reference, paid=False)
    assert apply_checkout_event(SYSTEM, completed) == "no_change"
    db.session.refresh(payment)
    assert payment.status == "started"
    later = CheckoutEvent(
        "sandbox", "evt_2", "checkout.session.async_payment_succeeded", reference, method="sepa_debit"
    )
    assert apply_checkout_event(SYSTEM, later) == "applied"
    db.session.refresh(payment)
    assert (payment.status, payment.method) == ("succeeded", "sepa_debit")


def test_a_failing_success_callback_leaves_the_payment_unpaid_and_the_event_unrecorded(app):
    def explode(payment):
        raise RuntimeError("the permit could not be activated")

    orders.register_success_callback(app, "tests.explode", explode)
    payment = make_payment(on_success="tests.explode")
    reference = _attempt_reference(payment)
    with pytest.raises(RuntimeError):
        apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_1", "sandbox.succeeded", reference))
    db.session.refresh(payment)
    assert payment.status == "started"
    # Not recorded, so the provider's next delivery (or the sweeper) tries again.
    assert db.session.scalar(sa.select(sa.func.count(ProviderEvent.id))) == 0


def test_a_paid_order_cannot_be_paid_again(app, client):
    payment = make_payment()
    _pay(client, payment, "succeeded")
    page = client.get(f"/bezahlen/{payment.public_id}")
    assert "Jetzt online bezahlen" not in page.text


@pytest.mark.parametrize("path", ["/bezahlen/nichtda", "/bezahlen/" + "0" * 32, "/bezahlen/test-zahlung/sbx_nichtda"])
def test_unknown_payments_are_404(client, path):
    assert client.get(path).status_code == 404


def test_a_withdrawn_order_is_not_payable_and_says_so(app, client):
    payment = make_payment()
    orders.cancel_for_case(SYSTEM, "appointments", payment.case_reference)
    db.session.refresh(payment)
    assert payment.status == "withdrawn"
    page = client.get(f"/bezahlen/{payment.public_id}")
    assert "Diese Zahlung wurde zurückgezogen" in page.text
    assert "Jetzt online bezahlen" not in page.text and "Überweisung" not in page.text
    with pytest.raises(PaymentError) as refused:
        attempts.start(SYSTEM, payment.public_id)
    assert (refused.value.code, refused.value.status) == ("withdrawn", 409)


def test_money_arriving_for_a_withdrawn_order_is_recorded_as_paid(app):
    payment = make_payment(on_success="tests.paid")
    reference = _attempt_reference(payment)  # the payer is on the provider's page ...
    orders.cancel_for_case(SYSTEM, "appointments", payment.case_reference)  # ... when the booking is cancelled
    assert apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_1", "sandbox.succeeded", reference)) == "applied"
    db.session.refresh(payment)
    assert payment.status == "succeeded"  # the owning service's callback decides what that means (a refund)
    assert [payment.kassenzeichen] == PAID_CALLS
