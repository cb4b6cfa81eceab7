"""What other services use besides create_payment: quoting a fee before asking for it, and cancelling a
case's unpaid orders when the case goes away."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from payments.errors import PaymentError
from payments.services import attempts, fees, orders
from payments.services.events import CheckoutEvent, apply_checkout_event
from portal.actors import SYSTEM
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.transaction import transaction
from tests.payments.builders import make_fee, make_paid_payment, make_payment


def test_a_quote_is_what_create_payment_would_charge(app):
    make_fee("REISEPASS", 7000, budget_line="1.2.2.0.01.431100")
    make_fee("SONDERNUTZUNG", None, rate_cents=150, unit="m² und Tag", minimum_cents=2000)

    passport = fees.quote("reisepass")
    assert (passport.code, passport.amount_cents, passport.budget_line, passport.per_unit) == (
        "REISEPASS",
        7000,
        "1.2.2.0.01.431100",
        False,
    )
    assert fees.quote("SONDERNUTZUNG", 40).amount_cents == 6000
    assert fees.quote("SONDERNUTZUNG", 4).amount_cents == 2000  # the minimum
    assert fees.quote("SONDERNUTZUNG", 40).per_unit
    payment = make_payment(fee_code="SONDERNUTZUNG", quantity=40, amount_cents=None)
    assert payment.amount_cents == 6000
    with pytest.raises(PaymentError) as unknown:
        fees.quote("GIBT-ES-NICHT")
    assert unknown.value.code == "unknown_fee"


def test_cancelling_a_case_cancels_its_unpaid_orders_and_leaves_paid_ones(app):
    created = make_payment(case_reference="T-2026-000007")
    started = make_payment(case_reference="T-2026-000007")
    attempts.start(SYSTEM, started.public_id)
    paid = make_paid_payment(case_reference="T-2026-000007")
    other = make_payment(case_reference="T-2026-000008")

    with transaction():
        cancelled = orders.cancel_for_case(SYSTEM, "appointments", "T-2026-000007")

    assert sorted(p.id for p in cancelled) == sorted([created.id, started.id])
    for payment, status in ((created, "withdrawn"), (started, "withdrawn"), (paid, "succeeded"), (other, "created")):
        db.session.refresh(payment)
        assert payment.status == status
    reasons = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "payment.status_changed").order_by(AuditEvent.seq)
    ).all()
    assert sum('"reason":"case_cancelled"' in details.replace(" ", "") for details in reasons) == 2


def test_a_payment_completed_after_its_case_was_cancelled_still_counts(app):
    payment = make_payment(case_reference="T-2026-000009")
    attempts.start(SYSTEM, payment.public_id)
    reference = orders.latest_attempt(payment).provider_reference
    with transaction():
        orders.cancel_for_case(SYSTEM, "appointments", "T-2026-000009")
    assert apply_checkout_event(SYSTEM, CheckoutEvent("sandbox", "evt_1", "sandbox.succeeded", reference)) == "applied"
    db.session.refresh(payment)
    assert payment.status == "succeeded"
