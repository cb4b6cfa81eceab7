"""Payment orders: amounts fixed at creation, a Kassenzeichen each, fees by tariff, bad input refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from payments.errors import PaymentError, PaymentNotFound
from payments.models import Payment
from payments.services import fees, orders
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.references import is_valid_kassenzeichen
from tests.builders import make_user
from tests.payments.builders import make_fee, make_payment


def test_a_payment_order_gets_a_valid_unique_kassenzeichen_and_is_audited(app):
    first, second = make_payment(), make_payment(case_reference="T-2026-000002")
    assert is_valid_kassenzeichen(first.kassenzeichen) and is_valid_kassenzeichen(second.kassenzeichen)
    assert first.kassenzeichen != second.kassenzeichen
    assert first.kassenzeichen[2:5] == "100"  # the configured area code
    assert first.status == "created"
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "payment.created")).all()
    assert len(events) == 2


def test_a_fee_code_fixes_amount_and_budget_line_from_the_tariff_valid_today(app):
    make_fee("PA-AUSWEIS", 3700, budget_line="1.2.2.0.01.431100")
    payment = make_payment(amount_cents=None, fee_code="pa-ausweis")
    assert (payment.amount_cents, payment.budget_line, payment.fee_code) == (3700, "1.2.2.0.01.431100", "PA-AUSWEIS")


def test_a_new_tariff_never_changes_a_payment_created_before(app):
    treasurer = make_user("kasse@example.org", roles=("treasury",))
    make_fee("PA-AUSWEIS", 3700)
    payment = make_payment(amount_cents=None, fee_code="PA-AUSWEIS")
    fees.add_version(Actor.for_user(treasurer), "PA-AUSWEIS", fees.today(), amount_cents=4600)
    later = make_payment(amount_cents=None, fee_code="PA-AUSWEIS", case_reference="T-2026-000009")
    db.session.refresh(payment)
    assert (payment.amount_cents, later.amount_cents) == (3700, 4600)


def test_a_rate_fee_multiplies_the_quantity_and_keeps_the_minimum(app):
    make_fee("SNU-GERUEST", None, rate_cents=150, unit="m² und Tag", minimum_cents=2500)
    assert make_payment(amount_cents=None, fee_code="SNU-GERUEST", quantity=40).amount_cents == 6000
    assert make_payment(amount_cents=None, fee_code="SNU-GERUEST", quantity=3).amount_cents == 2500
    with pytest.raises(PaymentError) as missing:
        make_payment(amount_cents=None, fee_code="SNU-GERUEST")
    assert missing.value.code == "quantity_required"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"amount_cents": 0}, "amount_not_positive"),
        ({"amount_cents": -5}, "amount_not_positive"),
        ({"amount_cents": 10**12}, "amount_too_high"),
        ({"amount_cents": "3700"}, "not_an_integer"),
        ({"amount_cents": 37.0}, "not_an_integer"),
        ({"amount_cents": True}, "not_an_integer"),
        ({"amount_cents": None, "fee_code": "GIBTESNICHT"}, "unknown_fee"),
        ({"amount_cents": None, "fee_code": "\x00"}, "unknown_fee"),
        ({"purpose": "Ausweis\x00"}, "invalid_characters"),
        ({"purpose": "   "}, "required"),
        ({"purpose": "x" * 141}, "too_long"),
        ({"return_url": "https://evil.example/"}, "foreign_return_url"),
        ({"return_url": "//evil.example/"}, "foreign_return_url"),
        ({"return_url": "/\\evil.example"}, "foreign_return_url"),
        ({"return_url": "/termine\x00"}, "invalid_return_url"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_nothing_is_stored(app, fields, code):
    with pytest.raises(PaymentError) as refused:
        make_payment(**fields)
    assert refused.value.code == code
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.seq))) == 0


def test_a_return_address_on_the_portal_is_kept(app):
    assert make_payment(return_url="/termine/meine").return_url == "/termine/meine"
    own = app.config["BASE_URL"] + "/termine/meine"
    assert make_payment(return_url=own).return_url == own


def test_an_unknown_success_callback_is_a_programming_error(app):
    with pytest.raises(ValueError, match="not registered"):
        make_payment(on_success="appointments.nothing")


def test_a_payer_sees_own_payments_and_a_stranger_does_not(app):
    anna = make_user("anna@example.org")
    bert = make_user("bert@example.org")
    payment = make_payment(actor=Actor.for_user(anna))
    assert payment.payer_user_id == anna.id
    assert [p.id for p in orders.payments_of(Actor.for_user(anna))] == [payment.id]
    assert orders.payments_of(Actor.for_user(bert)) == []
    with pytest.raises(PaymentNotFound):
        orders.get_payment(Actor.for_user(bert), payment.public_id)
    assert orders.get_payment(Actor.for_user(anna), payment.public_id) is payment


def test_fee_tariffs_cannot_start_in_the_past_or_twice_on_one_day(app):
    treasurer = Actor.for_user(make_user("kasse@example.org", roles=("treasury",)))
    fees.save_fee(treasurer, "GEWERBE-AN", "Gewerbeanmeldung", "1.2.2.0.02.431100")
    with pytest.raises(PaymentError) as past:
        fees.add_version(treasurer, "GEWERBE-AN", date.today() - timedelta(days=2), amount_cents=2600)
    assert past.value.code == "in_the_past"
    fees.add_version(treasurer, "GEWERBE-AN", fees.today() + timedelta(days=1), amount_cents=2600)
    with pytest.raises(PaymentError) as twice:
        fees.add_version(treasurer, "GEWERBE-AN", fees.today() + timedelta(days=1), amount_cents=2700)
    assert twice.value.code == "duplicate_version"


def test_only_the_treasury_manages_fees(app):
    from werkzeug.exceptions import Forbidden

    with pytest.raises(Forbidden):
        fees.save_fee(Actor.for_user(make_user()), "X-1", "X", "1")
    treasurer = Actor.for_user(make_user("k@example.org", roles=("treasury",)))
    assert fees.save_fee(treasurer, "X-1", "X", "1").code == "X-1"
