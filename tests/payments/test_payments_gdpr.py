"""Payments in "Meine Daten" and when an account is deleted: exported in full; kept as cash records without the
payer's email address."""

from __future__ import annotations

import json

from payments.models import Payment
from portal.actors import Actor
from portal.extensions import db
from portal.references import format_kassenzeichen
from tests.builders import PASSWORD, make_user
from tests.payments.builders import make_paid_payment, make_payment


def test_the_export_contains_the_persons_payments_with_their_refunds(app, client, auth):
    erika = make_user("erika@example.org")
    paid = make_paid_payment(Actor.for_user(erika), purpose="Personalausweis", amount_cents=3700)
    make_payment(Actor.for_user(make_user("bert@example.org")), purpose="Fremde Zahlung")
    auth.login("erika@example.org")

    data = json.loads(client.get("/konto/daten.json").data)

    [payment] = data["services"]["payments"]
    assert payment["kassenzeichen"] == paid.kassenzeichen
    assert (payment["purpose"], payment["amount_cents"], payment["status"]) == ("Personalausweis", 3700, "succeeded")
    assert payment["method"] == "card" and payment["paid_at"] and payment["payer_email"] == "erika@example.org"
    assert payment["refunds"] == []
    summary = client.get("/konto/daten").text
    assert "Zahlungen" in summary and format_kassenzeichen(paid.kassenzeichen) in summary
    assert "37,00 €" in summary and "Fremde Zahlung" not in summary


def test_deleting_the_account_keeps_the_payments_but_clears_the_email(app, client, auth):
    erika = make_user("erika@example.org")
    paid = make_paid_payment(Actor.for_user(erika))
    other = make_paid_payment(Actor.for_user(make_user("bert@example.org")), case_reference="T-2026-000002")
    auth.login("erika@example.org")

    page = client.get("/konto/loeschen").text
    assert "1 Zahlung bleibt als Kassenbeleg 10 Jahre lang gespeichert" in page

    done = auth.post_form("/konto/loeschen", {"password": PASSWORD, "confirm": "y"}, follow_redirects=True)

    assert done.status_code == 200
    db.session.expire_all()
    kept = db.session.get(Payment, paid.id)
    assert (kept.payer_email, kept.payer_user_id, kept.amount_cents, kept.status) == (None, erika.id, 3700, "succeeded")
    assert db.session.get(Payment, other.id).payer_email == "bert@example.org"
