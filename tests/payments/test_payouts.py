"""Refunds of payments that came by bank transfer: approved with four eyes, then paid back by the treasury's own
transfer ("Rücküberweisung"), never by a provider; confirmed by a treasury person with the bank's reference."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from payments.errors import PaymentError, PaymentNotFound
from payments.models import Payment, Refund
from payments.models_bank import BankStatementLine
from payments.services import payouts, reconciliation, refunds, statements
from payments.services.sweeper import sweep
from portal.actors import SYSTEM, Actor
from portal.approvals.services import decide
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.references import format_kassenzeichen
from portal.timeutil import to_berlin, utcnow
from tests.builders import csrf_from, make_user
from tests.payments.builders import make_payment, make_treasurer
from tests.payments.test_statements import german_csv

PAYER_IBAN = "DE89370400440532013000"  # what german_csv writes as the remitter's IBAN


@pytest.fixture
def tina(app):
    return make_treasurer("kasse@stadt.example", "Tina Kasse")


@pytest.fixture
def theo(app):
    return make_treasurer("kasse2@stadt.example", "Theo Kasse")


def _paid_by_transfer(tina, amount_cents: int = 3700) -> Payment:
    payment = make_payment(amount_cents=amount_cents)
    kz = format_kassenzeichen(payment.kassenzeichen)
    euros = f"{amount_cents // 100},{amount_cents % 100:02d}"
    data = german_csv([("27.11.2026", "Erika Mustermann", f"Kassenzeichen {kz}", euros)])
    assert statements.import_statement(Actor.for_user(tina), "umsaetze.csv", data).matched == 1
    db.session.expire_all()
    payment = db.session.get(Payment, payment.id)
    assert (payment.status, payment.method) == ("succeeded", "bank_transfer")
    return payment


def _approved(tina, theo, payment: Payment, amount_cents: int = 1200) -> Refund:
    refund = refunds.request_refund(Actor.for_user(tina), payment.public_id, amount_cents, "Doppelt bezahlt")
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
    db.session.expire_all()
    return db.session.get(Refund, refund.id)


def _fresh(model, row):
    db.session.expire_all()
    return db.session.get(model, row.id)


def _events(action: str) -> list[dict]:
    found = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [json.loads(e.details) for e in found]


def _refund_actions() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("payment.refund%")).order_by(AuditEvent.seq)
        )
    )


def _today() -> date:
    return to_berlin(utcnow()).date()


def test_a_refund_of_a_bank_transfer_goes_to_no_provider_and_the_sweeper_reports_no_error(
    app, runner, tina, theo, stripe_double
):
    payment = _paid_by_transfer(tina)  # PAYMENT_PROVIDER is stripe: the payment names it, but Stripe has no charge
    assert payment.provider == "stripe"

    refund = _approved(tina, theo, payment)
    report = refunds.send_approved_refunds()
    swept = runner.invoke(args=["payments", "sweep", "--stale-minutes", "0"])

    assert (report.sent, report.errors) == (0, 0)
    assert swept.exit_code == 0, swept.output
    assert stripe_double.calls("POST", "/v1/refunds") == []
    refund = _fresh(Refund, refund)
    assert refund.status == "pending" and refund.payout_open
    assert refund.provider_reference == f"manual:{refund.id}"
    assert _fresh(Payment, payment).refunded_cents == 0  # nothing has been paid back yet


def test_the_sandbox_does_not_pretend_to_refund_a_bank_transfer(app, tina, theo):
    payment = _paid_by_transfer(tina)
    assert payment.provider == "sandbox"
    refund = _approved(tina, theo, payment)

    refunds.send_approved_refunds()
    sweep()

    assert _fresh(Refund, refund).status == "pending"
    assert _fresh(Payment, payment).status == "succeeded"
    [due] = payouts.open_payouts(Actor.for_user(tina))
    assert due.refund.id == refund.id
    assert (due.iban, due.account_holder) == (PAYER_IBAN, "Erika Mustermann")
    assert format_kassenzeichen(payment.kassenzeichen) in due.remittance


def test_confirming_the_transfer_refunds_the_payment_audited_and_reconciled_as_a_bank_booking(app, tina, theo):
    payment = _paid_by_transfer(tina)
    refund = _approved(tina, theo, payment, 1200)

    payouts.confirm_payout(Actor.for_user(tina), refund.id, "  UEB-2026-4711 ", _today())

    refund = _fresh(Refund, refund)
    assert refund.status == "succeeded" and refund.payout_reference == "UEB-2026-4711"
    assert to_berlin(refund.sent_at).date() == _today()
    payment = _fresh(Payment, payment)
    assert (payment.status, payment.refunded_cents, payment.refund_reserved_cents) == ("partially_refunded", 1200, 1200)
    assert _refund_actions() == [
        "payment.refund_requested",
        "payment.refund_approved",
        "payment.refund_payout_due",
        "payment.refund_paid_out",
        "payment.refund_succeeded",
    ]
    [paid_out] = _events("payment.refund_paid_out")
    assert paid_out["bank_reference"] == "UEB-2026-4711" and paid_out["executed_on"] == _today().isoformat()
    assert paid_out["iban"] == "DE89…3000" and paid_out["iban_source"] == "statement"
    assert _events("payment.status_changed")[-1]["new"] == "partially_refunded"

    report = reconciliation.day_report(Actor.for_user(tina), _today())
    [booked] = report.refunded
    assert (booked.amount_cents, booked.provider, booked.provider_reference) == (-1200, "bank", "UEB-2026-4711")
    row = reconciliation.csv_rows(report)[-1]
    assert row[0] == "Erstattung" and row[3] == "-12,00" and row[5:8] == ["bank", "UEB-2026-4711", "bank_transfer"]


def test_a_payout_is_confirmed_once(app, tina, theo):
    payment = _paid_by_transfer(tina)
    refund = _approved(tina, theo, payment, 3700)
    payouts.confirm_payout(Actor.for_user(theo), refund.id, "UEB-1", _today())

    with pytest.raises(PaymentError) as again:
        payouts.confirm_payout(Actor.for_user(tina), refund.id, "UEB-2", _today())

    assert (again.value.code, again.value.status) == ("payout_not_open", 409)
    assert _fresh(Refund, refund).payout_reference == "UEB-1"
    payment = _fresh(Payment, payment)
    assert (payment.status, payment.refunded_cents) == ("refunded", 3700)
    assert payouts.open_payouts(Actor.for_user(tina)) == []


def test_without_an_iban_on_the_statement_the_treasury_names_the_account_it_paid_to(app, tina, theo):
    payment = _paid_by_transfer(tina)
    db.session.execute(sa.update(BankStatementLine).values(remitter_iban=None))
    db.session.commit()
    refund = _approved(tina, theo, payment)
    assert payouts.get_payout(Actor.for_user(tina), refund.id).iban is None
    person = Actor.for_user(tina)

    with pytest.raises(PaymentError) as missing:
        payouts.confirm_payout(person, refund.id, "UEB-1", _today())
    with pytest.raises(PaymentError) as typo:
        payouts.confirm_payout(person, refund.id, "UEB-1", _today(), "DE89 3704 0044 0532 0130 01")
    assert (missing.value.field, missing.value.code) == ("iban", "iban_required")
    assert (typo.value.field, typo.value.code) == ("iban", "invalid_iban")
    assert _fresh(Refund, refund).status == "pending"

    payouts.confirm_payout(person, refund.id, "UEB-1", _today(), "de12 5001 0517 0648 4898 90")
    assert _fresh(Refund, refund).status == "succeeded"
    [paid_out] = _events("payment.refund_paid_out")
    assert (paid_out["iban"], paid_out["iban_source"]) == ("DE12…9890", "entered")


@pytest.mark.parametrize(
    ("reference", "day", "field", "code"),
    [
        ("", 0, "bank_reference", "required"),
        ("UEB\x00", 0, "bank_reference", "invalid_characters"),
        ("U" * 141, 0, "bank_reference", "too_long"),
        ("UEB-1", 1, "executed_on", "in_future"),
        ("UEB-1", -30, "executed_on", "before_request"),
        ("UEB-1", None, "executed_on", "required"),
    ],
)
def test_a_payout_needs_the_banks_reference_and_a_plausible_day(app, tina, theo, reference, day, field, code):
    refund = _approved(tina, theo, _paid_by_transfer(tina))
    executed_on = None if day is None else _today() + timedelta(days=day)

    with pytest.raises(PaymentError) as refused:
        payouts.confirm_payout(Actor.for_user(tina), refund.id, reference, executed_on)

    assert (refused.value.field, refused.value.code) == (field, code)
    assert _fresh(Refund, refund).payout_open


def test_only_a_treasury_person_confirms_a_payout_and_only_of_a_bank_transfer(app, tina, theo):
    from tests.payments.builders import api_client_actor, make_paid_payment

    refund = _approved(tina, theo, _paid_by_transfer(tina))
    admin = Actor.for_user(make_user("admin@stadt.example", roles=("platform_admin",), totp=True))
    for outsider in (admin, api_client_actor(), SYSTEM):
        with pytest.raises(Forbidden):
            payouts.confirm_payout(outsider, refund.id, "UEB-1", _today())
    assert _fresh(Refund, refund).payout_open

    by_card = refunds.request_refund(Actor.for_user(tina), make_paid_payment().public_id, 500, "Kulanz")
    with pytest.raises(PaymentNotFound):
        payouts.confirm_payout(Actor.for_user(tina), by_card.id, "UEB-1", _today())


def test_a_payout_approved_before_payouts_existed_is_not_sent_to_the_provider(app, tina, theo, stripe_double):
    refund = _approved(tina, theo, _paid_by_transfer(tina))
    refund.provider_reference = None  # as the approval left it before
    db.session.commit()

    report = refunds.send_approved_refunds()

    assert (report.sent, report.errors) == (0, 0) and stripe_double.calls("POST", "/v1/refunds") == []
    assert _fresh(Refund, refund).payout_open


def test_the_treasury_confirms_a_payout_on_its_pages(app, client, tina, theo):
    from tests.portal.admin.conftest import sign_in

    payment = _paid_by_transfer(tina)
    refund = _approved(tina, theo, payment)
    sign_in(client, theo)

    overview = client.get("/admin/kasse/")
    assert "Rücküberweisungen offen" in overview.text
    assert "DE89 3704 0044 0532 0130 00" in overview.text and "Erika Mustermann" in overview.text
    assert "Freigegebene Erstattungen ohne Bestätigung" in overview.text
    detail = client.get(f"/admin/kasse/zahlungen/{payment.public_id}")
    assert "freigegeben, Rücküberweisung offen" in detail.text

    page = client.get(f"/admin/kasse/erstattungen/{refund.id}/rueckueberweisung")
    assert page.status_code == 200
    assert "Rücküberweisung ausgeführt" in page.text and "12,00 €" in page.text
    refused = client.post(
        f"/admin/kasse/erstattungen/{refund.id}/rueckueberweisung",
        data={"csrf_token": csrf_from(page.text), "bank_reference": "", "executed_on": _today().isoformat()},
    )
    assert refused.status_code == 422 and "Referenz" in refused.text
    assert _fresh(Refund, refund).payout_open

    done = client.post(
        f"/admin/kasse/erstattungen/{refund.id}/rueckueberweisung",
        data={"csrf_token": csrf_from(page.text), "bank_reference": "UEB-2026-4711", "executed_on": str(_today())},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "als ausgeführt bestätigt" in done.text and "UEB-2026-4711" in done.text
    assert _fresh(Payment, payment).status == "partially_refunded"
    assert "Rücküberweisungen offen" in client.get("/admin/kasse/").text  # the heading stays; the list is empty
    assert payouts.open_payouts(Actor.for_user(theo)) == []


def test_the_payout_page_is_for_the_treasury_only(app, client, tina, theo):
    from tests.portal.admin.conftest import sign_in

    refund = _approved(tina, theo, _paid_by_transfer(tina))
    sign_in(client, make_user("erika@example.org", totp=True))
    assert client.get(f"/admin/kasse/erstattungen/{refund.id}/rueckueberweisung").status_code == 403
