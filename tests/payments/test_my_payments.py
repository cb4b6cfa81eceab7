"""Meine Zahlungen: the signed-in person's payments (and their business's), newest first, with receipts."""

from __future__ import annotations

from payments.services.orders import Payer
from portal.actors import Actor
from portal.references import format_kassenzeichen
from tests.builders import make_user
from tests.payments.builders import make_paid_payment, make_payment
from tests.portal.admin.conftest import sign_in


def test_my_payments_shows_only_my_own_newest_first_with_status_in_words(app, client):
    anna, bert = make_user("anna@example.org"), make_user("bert@example.org")
    older = make_paid_payment(Actor.for_user(anna), purpose="Personalausweis", case_reference="T-2026-000001")
    newer = make_payment(Actor.for_user(anna), purpose="Reisepass", amount_cents=7000, case_reference="T-2026-000002")
    theirs = make_payment(Actor.for_user(bert), purpose="Führungszeugnis", case_reference="T-2026-000003")
    sign_in(client, anna)

    page = client.get("/konto/zahlungen")

    assert page.status_code == 200
    text = page.text
    assert "Reisepass" in text and "Personalausweis" in text and "Führungszeugnis" not in text
    assert format_kassenzeichen(theirs.kassenzeichen) not in text
    assert text.index("Reisepass") < text.index("Personalausweis")
    assert "Bezahlt" in text and "Offen" in text and "70,00 €" in text
    assert f"/konto/zahlungen/{older.public_id}/quittung.pdf" in text
    assert f"/konto/zahlungen/{newer.public_id}/quittung.pdf" not in text  # unpaid: no receipt yet
    assert f"/bezahlen/{newer.public_id}" in text


def test_my_payments_is_listed_in_my_account_and_needs_signing_in(app, client):
    assert client.get("/konto/zahlungen").status_code == 302
    sign_in(client, make_user("anna@example.org"))
    assert "/konto/zahlungen" in client.get("/konto/").text


def test_a_payment_made_by_email_only_is_not_somebody_elses(app, client):
    anna = make_user("anna@example.org")
    make_payment(payer=Payer(email="anna@example.org"), purpose="Gastbuchung")
    sign_in(client, anna)
    assert "Gastbuchung" not in client.get("/konto/zahlungen").text
