"""The sweeper: crashes, lost answers and missed webhooks end in the right state, with the same session, once."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from payments.errors import PaymentError
from payments.models import PaymentAttempt, ProviderEvent
from payments.services import attempts, orders
from payments.services.sweeper import sweep
from portal.actors import SYSTEM
from portal.extensions import db
from portal.timeutil import utcnow
from tests.payments.builders import make_payment
from tests.payments.conftest import deliver

NOW = timedelta(0)
PAID_CALLS: list[str] = []


@pytest.fixture
def app(app):
    orders.register_success_callback(app, "tests.paid", lambda payment: PAID_CALLS.append(payment.kassenzeichen))
    PAID_CALLS.clear()
    return app


def _attempt(payment) -> PaymentAttempt:
    db.session.expire_all()
    return orders.latest_attempt(payment)


def _status(payment) -> str:
    db.session.expire_all()
    return db.session.get(type(payment), payment.id).status


def _started(payment) -> str:
    attempts.start(SYSTEM, payment.public_id)
    return _attempt(payment).provider_reference


def test_an_answer_lost_on_every_try_is_fetched_by_the_sweeper_as_the_same_session(app, stripe_double):
    stripe_double.fail("/v1/checkout/sessions", times=3, status=502, after=True)
    payment = make_payment()
    with pytest.raises(PaymentError):
        attempts.start(SYSTEM, payment.public_id)
    assert _attempt(payment).provider_reference is None
    [session] = stripe_double.sessions  # Stripe made it; we never heard
    report = sweep(stale_after=NOW)
    assert report.checkouts_completed == 1 and report.errors == 0
    attempt = _attempt(payment)
    assert attempt.provider_reference == session
    assert len(stripe_double.sessions) == 1
    keys = {c.headers["idempotency-key"] for c in stripe_double.calls("POST", "/v1/checkout/sessions")}
    assert keys == {attempt.idempotency_key}


def test_a_worker_killed_between_stripes_answer_and_our_commit_is_recovered(app, stripe_double, monkeypatch):
    real_transaction, entered = attempts.transaction, []

    @contextmanager
    def killed_at_the_second_commit():
        entered.append(1)
        if len(entered) == 2:  # the first records the attempt; the second would store Stripe's answer
            raise SystemExit("worker killed")
        with real_transaction() as session:
            yield session

    monkeypatch.setattr(attempts, "transaction", killed_at_the_second_commit)
    payment = make_payment(on_success="tests.paid")
    with pytest.raises(SystemExit):
        attempts.start(SYSTEM, payment.public_id)
    monkeypatch.undo()
    db.session.rollback()
    [session] = stripe_double.sessions
    assert _attempt(payment).provider_reference is None
    assert sweep(stale_after=NOW).checkouts_completed == 1
    assert _attempt(payment).provider_reference == session and len(stripe_double.sessions) == 1
    # The payer's next click goes to that same session, and paying it is applied as usual.
    assert attempts.start(SYSTEM, payment.public_id) == stripe_double.sessions[session]["url"]
    stripe_double.pay(session)
    assert sweep(stale_after=NOW).events_recovered == 1
    assert _status(payment) == "succeeded" and [payment.kassenzeichen] == PAID_CALLS


def test_an_attempt_that_never_reached_stripe_ends_after_the_retry_window(app, stripe_double):
    stripe_double.fail("/v1/checkout/sessions", times=3, status=503)
    payment = make_payment()
    with pytest.raises(PaymentError):
        attempts.start(SYSTEM, payment.public_id)
    report = sweep(now=utcnow() + timedelta(minutes=26))
    assert report.never_sent_expired == 1 and stripe_double.sessions == {}
    assert _status(payment) == "expired"
    assert len(stripe_double.calls("POST", "/v1/checkout/sessions")) == 3  # not asked again


def test_a_missed_paid_event_is_recovered_from_stripes_event_list_and_a_late_delivery_is_a_duplicate(
    app, client, stripe_double
):
    payment = make_payment(on_success="tests.paid")
    event = stripe_double.pay(_started(payment))  # the webhook never arrived
    report = sweep(stale_after=NOW)
    assert report.events_recovered == 1
    assert _status(payment) == "succeeded" and [payment.kassenzeichen] == PAID_CALLS
    [listed] = stripe_double.calls("GET", "/v1/events")
    assert set(listed.params["types"]) == {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
    assert int(listed.params["created"]["gte"]) <= int(_attempt(payment).created_at.timestamp())
    assert deliver(client, event).get_json()["outcome"] == "duplicate"


def test_the_sweeper_fills_in_the_method_the_webhook_could_not_name(app, client, stripe_double):
    payment = make_payment()
    session = _started(payment)
    deliver(client, stripe_double.complete_unpaid(session))
    deliver(client, stripe_double.async_result(session, succeeded=True))
    assert _attempt(payment).method is None  # three methods were offered; the event does not say which
    assert sweep(stale_after=NOW).methods_filled == 1
    db.session.expire_all()
    assert (_attempt(payment).method, db.session.get(type(payment), payment.id).method) == ("sepa_debit",) * 2


def test_when_stripes_event_list_fails_the_session_itself_is_asked_and_a_real_webhook_later_changes_nothing(
    app, client, stripe_double
):
    payment = make_payment(on_success="tests.paid")
    event = stripe_double.pay(_started(payment), method="paypal")
    stripe_double.fail("/v1/events", times=3, method="GET")
    report = sweep(stale_after=NOW)
    assert (report.succeeded, report.errors) == (1, 1)
    assert _status(payment) == "succeeded" and _attempt(payment).method == "paypal"
    recorded = db.session.scalars(sa.select(ProviderEvent.event_id)).all()
    assert recorded == [f"sweep:{_attempt(payment).provider_reference}:succeeded"]
    assert deliver(client, event).get_json()["outcome"] == "no_change"
    assert [payment.kassenzeichen] == PAID_CALLS


def test_a_session_that_ran_out_unnoticed_expires_the_payment(app, stripe_double):
    payment = make_payment()
    _started(payment)
    stripe_double.clock_offset = 3700  # an hour later at Stripe: the session has expired
    report = sweep(stale_after=NOW)
    assert report.expired == 1
    assert _status(payment) == "expired"


def test_an_expired_event_that_was_never_delivered_is_recovered(app, stripe_double):
    payment = make_payment()
    stripe_double.expire(_started(payment))
    assert sweep(stale_after=NOW).events_recovered == 1
    assert _status(payment) == "expired"


def test_a_second_run_finds_nothing_to_do(app, stripe_double):
    payment = make_payment()
    stripe_double.pay(_started(payment))
    sweep(stale_after=NOW)
    again = sweep(stale_after=NOW)
    assert str(again) == str(type(again)())
    assert _status(payment) == "succeeded"


def test_a_payer_still_on_stripes_page_is_left_alone(app, stripe_double):
    payment = make_payment()
    _started(payment)
    report = sweep()  # the attempt is seconds old
    assert str(report) == str(type(report)())
    assert not [r for r in stripe_double.requests if r.path.startswith("/v1/checkout/sessions/")]
    assert _status(payment) == "started"


def test_an_expired_sandbox_attempt_is_ended_too(app):
    payment = make_payment()
    attempts.start(SYSTEM, payment.public_id)
    attempt = _attempt(payment)
    attempt.expires_at = utcnow() - timedelta(minutes=1)  # the tester walked away half an hour ago
    db.session.commit()
    report = sweep(stale_after=NOW)
    assert report.expired == 1 and _status(payment) == "expired"


def test_the_cli_reports_what_it_did(app, runner, stripe_double):
    payment = make_payment()
    stripe_double.pay(_started(payment))
    result = runner.invoke(args=["payments", "sweep", "--stale-minutes", "0"])
    assert result.exit_code == 0, result.output
    assert "events_recovered=1" in result.output
    assert _status(payment) == "succeeded"


def test_the_cli_exits_non_zero_while_stripe_is_unreachable(app, runner, stripe_double):
    payment = make_payment()
    _started(payment)
    stripe_double.fail("/v1/", times=100, method="GET")
    result = runner.invoke(args=["payments", "sweep", "--stale-minutes", "0"])
    assert result.exit_code == 1 and "errors=2" in result.output


def test_the_sweeper_sends_approved_refunds_left_behind(app):
    from payments.models import Refund
    from payments.services import refunds
    from portal.actors import Actor
    from portal.approvals.services import decide
    from tests.payments.builders import make_paid_payment, make_treasurer

    payment = make_paid_payment(amount_cents=3700)  # the sandbox: its refunds succeed at once
    tina, theo = make_treasurer("tina@stadt.example", "Tina"), make_treasurer("theo@stadt.example", "Theo")
    refund = refunds.request_refund(Actor.for_user(tina), payment.public_id, 1000, "Zu viel berechnet")
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)  # outside a request: nothing sent yet
    assert db.session.get(Refund, refund.id).status == "pending"

    report = sweep()
    assert report.refunds_sent == 1
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status == "succeeded"
    assert sweep().refunds_sent == 0


# --- refunds whose news from Stripe was lost -------------------------------------------------------------


def _pending_stripe_refund(client, stripe_double, amount_cents: int = 2000):
    """A Stripe payment, paid by webhook, with an approved refund Stripe answered "pending" for."""
    from payments.models import Refund
    from payments.services import refunds
    from portal.actors import Actor
    from portal.approvals.services import decide
    from tests.payments.builders import make_treasurer

    payment = make_payment(amount_cents=7000)
    assert deliver(client, stripe_double.pay(_started(payment))).status_code == 200
    stripe_double.refund_status = "pending"  # a refund Stripe settles later, and says so by webhook
    tina, theo = make_treasurer("tina@stadt.example", "Tina"), make_treasurer("theo@stadt.example", "Theo")
    refund = refunds.request_refund(Actor.for_user(tina), payment.public_id, amount_cents, "Antrag zurückgenommen")
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
    assert refunds.send_approved_refunds().sent == 1
    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert refund.status == "pending" and refund.provider_reference in stripe_double.refunds
    return payment, refund


def _refund(refund):
    db.session.expire_all()
    return db.session.get(type(refund), refund.id)


def test_a_refund_whose_webhook_was_lost_is_recovered_from_stripes_event_list(app, client, stripe_double):
    payment, refund = _pending_stripe_refund(client, stripe_double)
    event = stripe_double.settle_refund(refund.provider_reference, "succeeded")  # the webhook never arrived

    report = sweep()

    assert (report.events_recovered, report.errors) == (1, 0)
    assert _refund(refund).status == "succeeded"
    db.session.expire_all()
    paid = db.session.get(type(payment), payment.id)
    assert (paid.status, paid.refunded_cents) == ("partially_refunded", 2000)
    [listed] = stripe_double.calls("GET", "/v1/events")
    assert "refund.updated" in listed.params["types"] and "checkout.session.completed" not in listed.params["types"]
    assert int(listed.params["created"]["gte"]) <= int(refund.sent_at.timestamp())
    assert not [r for r in stripe_double.requests if r.path.startswith("/v1/refunds/")]  # the list sufficed
    assert deliver(client, event).get_json()["outcome"] == "duplicate"
    assert sweep().events_recovered == 0


def test_a_refund_still_pending_at_stripe_stays_pending_and_is_no_error(app, client, stripe_double):
    _payment, refund = _pending_stripe_refund(client, stripe_double)

    report = sweep()

    assert (report.events_recovered, report.errors) == (0, 0)
    assert _refund(refund).status == "pending"


def test_a_refund_settled_while_the_sweeper_was_off_for_days_is_asked_for_directly(app, client, stripe_double):
    from payments.models import Payment

    payment, refund = _pending_stripe_refund(client, stripe_double)
    sent_long_ago = utcnow() - timedelta(days=3)
    refund.sent_at = sent_long_ago
    db.session.commit()
    event = stripe_double.settle_refund(refund.provider_reference, "failed", "expired_or_canceled_card")
    # Stripe's news is two days old: outside the day the event list is read back.
    stripe_double.events[-1]["created"] = int((utcnow() - timedelta(days=2)).timestamp())

    report = sweep()

    assert (report.refunds_settled, report.events_recovered, report.errors) == (1, 0, 0)
    assert [r.path for r in stripe_double.requests if r.path.startswith("/v1/refunds/")] == [
        f"/v1/refunds/{refund.provider_reference}"
    ]
    refund = _refund(refund)
    assert (refund.status, refund.failure_reason) == ("failed", "expired_or_canceled_card")
    assert db.session.get(Payment, payment.id).refund_reserved_cents == 0  # the money can be refunded again
    assert deliver(client, event).get_json()["outcome"] == "no_change"
    assert sweep().refunds_settled == 0
