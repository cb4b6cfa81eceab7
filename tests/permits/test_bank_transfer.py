"""A permit fee paid by bank transfer: the payer's page of the payments service offers the transfer with the
Kassenzeichen; the treasury imports the bank statement, the credit is matched by Kassenzeichen and amount, the
permit becomes paid in that transaction and active on its first day (the calendar job)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from payments.services import statements
from permits.models import PermitState
from permits.services import lifecycle
from portal.actors import Actor
from portal.extensions import db
from portal.references import format_kassenzeichen
from tests.payments.builders import make_treasurer
from tests.payments.test_statements import german_csv
from tests.permits.test_desk import _accepted, _actions, _grant

S = PermitState


def _statement(kassenzeichen: str, amount: str) -> bytes:
    text = f"Sondernutzung {format_kassenzeichen(kassenzeichen)}"
    return german_csv([("27.11.2026", "Erika Antrag", text, amount)])


def test_a_transfer_with_the_kassenzeichen_pays_the_permit_and_it_starts_on_its_first_day(world, monkeypatch):
    monkeypatch.setattr(lifecycle, "today", lambda: date(2026, 5, 20))
    application = _grant(world, _accepted(world))
    assert application.state == S.FEE_NOTICE and application.kassenzeichen

    treasury = Actor.for_user(make_treasurer())
    result = statements.import_statement(treasury, "konto.csv", _statement(application.kassenzeichen, "39,40"))
    assert result.matched == 1
    db.session.refresh(application)
    assert application.state == S.PAID
    assert _actions(application)[-1] == "permits.fee_paid"

    lifecycle.run(date(2026, 6, 1))
    db.session.refresh(application)
    assert application.state == S.ACTIVE


def test_a_transfer_of_the_wrong_amount_leaves_the_fee_open(world):
    application = _grant(world, _accepted(world))
    treasury = Actor.for_user(make_treasurer())
    result = statements.import_statement(treasury, "konto.csv", _statement(application.kassenzeichen, "30,00"))
    assert result.matched == 0
    db.session.refresh(application)
    assert application.state == S.FEE_NOTICE


def test_the_payment_page_offers_the_transfer_with_the_kassenzeichen(client, auth, world):
    from payments.models import Payment
    from tests.builders import PASSWORD

    application = _grant(world, _accepted(world))
    payment = db.session.scalar(sa.select(Payment).where(Payment.public_id == application.payment_public_id))
    auth.login("antrag@example.org", PASSWORD)
    page = client.get(f"/bezahlen/{payment.public_id}").get_data(as_text=True)
    assert format_kassenzeichen(application.kassenzeichen) in page and "39,40" in page
