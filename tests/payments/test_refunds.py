"""Refunds: asked for by one treasury person, approved by a second, sent to the provider, confirmed once.

The sandbox provider confirms a refund at once; Stripe's answer ("pending", then a webhook) is covered with
the local Stripe double at the end.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from payments.errors import PaymentError
from payments.models import Payment, Refund
from payments.services import refunds
from portal.actors import SYSTEM, Actor
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import ApprovalError, decide, withdraw
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import make_user
from tests.payments.builders import api_client_actor, make_paid_payment, make_payment, make_treasurer


@pytest.fixture
def tina(app):
    return make_treasurer("kasse@stadt.example", "Tina Kasse")


@pytest.fixture
def theo(app):
    return make_treasurer("kasse2@stadt.example", "Theo Kasse")


def _actions() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("payment.refund%")).order_by(AuditEvent.seq)
        )
    )


def _fresh(payment: Payment) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment.id)


def _request(user, payment, amount_cents: int = 1200, reason: str = "Doppelt bezahlt") -> Refund:
    return refunds.request_refund(Actor.for_user(user), payment.public_id, amount_cents, reason)


def test_a_refund_approved_by_a_second_treasurer_is_sent_and_the_payment_is_partially_refunded(app, tina, theo):
    payment = make_paid_payment(amount_cents=3700)

    refund = _request(tina, payment, 1200)
    assert refund.status == "awaiting_approval"
    assert _fresh(payment).refund_reserved_cents == 1200
    approval = db.session.get(ApprovalRequest, refund.approval_request_id)
    assert approval.kind == "payments.refund" and approval.requested_by_id == tina.id
    assert "12,00 €" in approval.summary

    decide(Actor.for_user(theo), approval.id, approve=True)
    assert db.session.get(Refund, refund.id).status == "pending"  # stays pending until the provider confirms
    report = refunds.send_approved_refunds()

    assert (report.sent, report.confirmed, report.errors) == (1, 1, 0)
    refund = db.session.get(Refund, refund.id)
    assert refund.status == "succeeded" and refund.provider_reference.startswith("sbx_re_")
    payment = _fresh(payment)
    assert (payment.status, payment.refunded_cents, payment.refund_reserved_cents) == ("partially_refunded", 1200, 1200)
    assert _actions() == [
        "payment.refund_requested",
        "payment.refund_approved",
        "payment.refund_sent",
        "payment.refund_succeeded",
    ]
    moved = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "payment.status_changed").order_by(AuditEvent.seq)
    ).all()
    assert '"new":"partially_refunded"' in moved[-1].replace(" ", "")


def test_refunding_the_rest_marks_the_payment_refunded(app, tina, theo):
    payment = make_paid_payment(amount_cents=3700)
    for amount in (1200, 2500):
        refund = _request(tina, payment, amount)
        decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
        refunds.send_approved_refunds()
    payment = _fresh(payment)
    assert (payment.status, payment.refunded_cents) == ("refunded", 3700)
    with pytest.raises(PaymentError) as nothing_left:
        _request(tina, payment, 1)
    assert (nothing_left.value.code, nothing_left.value.status) == ("over_refundable", 409)


def test_the_requester_cannot_approve_their_own_refund(app, tina):
    payment = make_paid_payment()
    refund = _request(tina, payment)
    with pytest.raises(ApprovalError) as refused:
        decide(Actor.for_user(tina), refund.approval_request_id, approve=True)
    assert refused.value.code == "own_request"
    assert db.session.get(Refund, refund.id).status == "awaiting_approval"


def test_a_rejected_refund_releases_its_reservation(app, tina, theo):
    payment = make_paid_payment(amount_cents=3700)
    refund = _request(tina, payment, 3700)
    decide(Actor.for_user(theo), refund.approval_request_id, approve=False, note="Kein Anspruch")
    refund = db.session.get(Refund, refund.id)
    assert refund.status == "rejected"
    payment = _fresh(payment)
    assert (payment.status, payment.refund_reserved_cents, payment.refunded_cents) == ("succeeded", 0, 0)
    assert _actions() == ["payment.refund_requested", "payment.refund_rejected"]
    assert _request(tina, payment, 3700).status == "awaiting_approval"  # the whole amount can be asked for again


def test_a_withdrawn_approval_releases_the_reservation_on_the_next_run(app, tina):
    payment = make_paid_payment(amount_cents=3700)
    refund = _request(tina, payment, 2000)
    withdraw(Actor.for_user(tina), refund.approval_request_id)
    assert refunds.send_approved_refunds().released == 1
    assert db.session.get(Refund, refund.id).status == "rejected"
    assert _fresh(payment).refund_reserved_cents == 0


def test_a_refund_over_the_remaining_amount_is_refused_with_409(app, tina):
    payment = make_paid_payment(amount_cents=3700)
    _request(tina, payment, 3000)
    with pytest.raises(PaymentError) as refused:
        _request(tina, payment, 800)
    assert (refused.value.code, refused.value.status, refused.value.field) == ("over_refundable", 409, "amount_cents")
    assert "7,00 €" in refused.value.message
    assert _fresh(payment).refund_reserved_cents == 3000
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1


def test_an_unpaid_payment_cannot_be_refunded(app, tina):
    payment = make_payment()
    with pytest.raises(PaymentError) as refused:
        _request(tina, payment)
    assert (refused.value.code, refused.value.status) == ("not_paid", 409)
    assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 0


def test_only_the_treasury_may_ask_for_a_refund(app):
    payment = make_paid_payment()
    clerk = make_user("clerk@stadt.example", roles=("platform_admin",), totp=True)
    citizen = make_user("citizen@example.org")
    for person in (clerk, citizen):
        with pytest.raises(Forbidden):
            _request(person, payment)
    with pytest.raises(Forbidden):
        refunds.request_refund(api_client_actor(scopes=("audit",)), payment.public_id, 100, "x")


@pytest.mark.parametrize(
    ("amount", "reason", "code"),
    [
        (0, "Grund", "amount_not_positive"),
        (-100, "Grund", "amount_not_positive"),
        ("12", "Grund", "not_an_integer"),
        (True, "Grund", "not_an_integer"),
        (10**30, "Grund", "amount_too_high"),
        (100, "", "required"),
        (100, None, "required"),
        (100, "Grund\x00", "invalid_characters"),
        (100, "x" * 501, "too_long"),
    ],
)
def test_bad_amounts_and_reasons_are_refused(app, tina, amount, reason, code):
    payment = make_paid_payment()
    with pytest.raises(PaymentError) as refused:
        refunds.request_refund(Actor.for_user(tina), payment.public_id, amount, reason)
    assert refused.value.code == code
    assert _fresh(payment).refund_reserved_cents == 0


def test_confirm_refund_is_idempotent_even_when_the_news_overtakes_the_answer(app, tina, theo):
    payment = make_paid_payment(amount_cents=3700)
    refund = _request(tina, payment, 1000)
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)  # approved, not yet sent

    first = refunds.confirm_refund(SYSTEM, "sandbox", "sbx_re_abc", "succeeded", "evt_1", refund_id=refund.id)
    again = refunds.confirm_refund(SYSTEM, "sandbox", "sbx_re_abc", "succeeded", "evt_1")
    later_failure = refunds.confirm_refund(SYSTEM, "sandbox", "sbx_re_abc", "failed", "evt_2")

    assert (first, again, later_failure) == ("applied", "no_change", "no_change")
    refund = db.session.get(Refund, refund.id)
    assert (refund.status, refund.provider_reference) == ("succeeded", "sbx_re_abc")
    payment = _fresh(payment)
    assert (payment.refunded_cents, payment.refund_reserved_cents, payment.status) == (1000, 1000, "partially_refunded")
    assert refunds.send_approved_refunds().sent == 0  # confirmed already: nothing left to send
    assert _actions().count("payment.refund_succeeded") == 1
    assert refunds.confirm_refund(SYSTEM, "sandbox", "sbx_re_unknown", "succeeded") == "unknown_refund"


def test_a_failed_refund_releases_the_reservation(app, tina, theo):
    payment = make_paid_payment(amount_cents=3700)
    refund = _request(tina, payment, 3700)
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
    outcome = refunds.confirm_refund(
        SYSTEM, "sandbox", "sbx_re_x", "failed", refund_id=refund.id, failure_reason="expired_or_canceled_card"
    )
    assert outcome == "applied"
    refund = db.session.get(Refund, refund.id)
    assert (refund.status, refund.failure_reason) == ("failed", "expired_or_canceled_card")
    payment = _fresh(payment)
    assert (payment.status, payment.refund_reserved_cents, payment.refunded_cents) == ("succeeded", 0, 0)
    assert "payment.refund_failed" in _actions()


def test_an_api_clients_refund_waits_until_a_treasurer_puts_it_up(app, tina, theo):
    payment = make_paid_payment(amount_cents=3700)
    client = api_client_actor()

    refund = refunds.request_refund(client, payment.public_id, 700, "Gebühr zu hoch berechnet")

    assert (refund.status, refund.approval_request_id) == ("awaiting_approval", None)
    assert refund.requested_by_client == f"token:{client.token.id}"
    assert _fresh(payment).refund_reserved_cents == 700
    assert [r.id for r in refunds.waiting_for_submission(Actor.for_user(tina))] == [refund.id]
    with pytest.raises(Forbidden):
        refunds.submit_for_approval(client, refund.id)

    approval = refunds.submit_for_approval(Actor.for_user(tina), refund.id)
    with pytest.raises(ApprovalError):
        decide(Actor.for_user(tina), approval.id, approve=True)
    decide(Actor.for_user(theo), approval.id, approve=True)
    refunds.send_approved_refunds()

    assert db.session.get(Refund, refund.id).status == "succeeded"
    assert _actions() == [
        "payment.refund_requested",
        "payment.refund_submitted",
        "payment.refund_approved",
        "payment.refund_sent",
        "payment.refund_succeeded",
    ]
    with pytest.raises(PaymentError) as twice:
        refunds.submit_for_approval(Actor.for_user(tina), refund.id)
    assert twice.value.code == "not_awaiting"


def test_a_case_refund_asks_for_the_remaining_amount_once(app, tina):
    payment = make_paid_payment(amount_cents=3700, case_reference="T-2026-000042")
    make_payment(case_reference="T-2026-000042", amount_cents=500)  # unpaid: nothing to refund
    _request(tina, payment, 1000)

    asked = refunds.refund_for_case(SYSTEM, "appointments", "T-2026-000042", "Termin abgesagt")
    again = refunds.refund_for_case(SYSTEM, "appointments", "T-2026-000042", "Termin abgesagt")

    assert [(r.amount_cents, r.requested_by_client, r.approval_request_id) for r in asked] == [
        (2700, "service:appointments", None)
    ]
    assert again == []
    assert _fresh(payment).refund_reserved_cents == 3700


def test_approving_on_the_freigaben_page_sends_the_refund_right_away(app, client, tina, theo):
    from tests.builders import csrf_from
    from tests.portal.admin.conftest import sign_in

    payment = make_paid_payment(amount_cents=3700)
    refund = _request(tina, payment, 3700)
    sign_in(client, theo)
    page = client.get(f"/admin/freigaben/{refund.approval_request_id}")
    assert "Erstattung von 37,00 €" in page.text

    decided = client.post(
        f"/admin/freigaben/{refund.approval_request_id}",
        data={"csrf_token": csrf_from(page.text), "decision": "approve", "note": ""},
    )

    assert decided.status_code == 302
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status == "succeeded"
    assert _fresh(payment).status == "refunded"


def test_a_stripe_refund_stays_pending_until_stripe_confirms_it(app, client, tina, theo, stripe_double):
    from payments.services import attempts, orders
    from tests.payments.conftest import deliver

    payment = make_payment(amount_cents=7000)
    attempts.start(SYSTEM, payment.public_id)
    assert deliver(client, stripe_double.pay(orders.latest_attempt(payment).provider_reference)).status_code == 200
    assert _fresh(payment).status == "succeeded"
    stripe_double.refund_status = "pending"

    refund = _request(tina, payment, 2000)
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
    refunds.send_approved_refunds()

    [call] = stripe_double.calls("POST", "/v1/refunds")
    assert call.headers["idempotency-key"] == refund.idempotency_key
    assert call.params["amount"] == "2000"
    refund = db.session.get(Refund, refund.id)
    assert refund.status == "pending" and refund.provider_reference in stripe_double.refunds
    assert _fresh(payment).refunded_cents == 0

    assert refunds.confirm_refund(SYSTEM, "stripe", refund.provider_reference, "succeeded", "evt_x") == "applied"
    payment = _fresh(payment)
    assert (payment.status, payment.refunded_cents) == ("partially_refunded", 2000)
