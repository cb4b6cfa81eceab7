"""The receipt (Quittung): a PDF with what the cash office confirms, for the payer and by the payment's link."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from payments.errors import PaymentError
from payments.services import receipts, refunds
from portal.actors import Actor
from portal.approvals.services import decide
from portal.references import format_kassenzeichen
from tests.builders import make_user
from tests.payments.builders import make_paid_payment, make_payment, make_treasurer
from tests.portal.admin.conftest import sign_in


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_receipt_names_kassenzeichen_amount_purpose_date_method_and_case(app):
    payment = make_paid_payment(purpose="Personalausweis", amount_cents=3700, case_reference="T-2026-000123")

    text = _text(receipts.render_receipt(payment, "de"))

    assert "Quittung" in text
    assert format_kassenzeichen(payment.kassenzeichen) in text  # e.g. "26 100 000001 64"
    assert "37,00 €" in text and "Personalausweis" in text and "T-2026-000123" in text
    assert "Karte (Kredit- oder Debitkarte)" in text
    assert re.search(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} Uhr", text)
    assert "Testzahlung" in text  # the sandbox's receipts say that no money moved
    assert "Stadt Musterstadt" in text


def test_the_receipt_lists_refunds_made(app):
    payment = make_paid_payment(amount_cents=3700)
    tina, theo = make_treasurer(), make_treasurer("kasse2@stadt.example", "Theo Kasse")
    refund = refunds.request_refund(Actor.for_user(tina), payment.public_id, 1250, "Teilweise zurück")
    decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
    refunds.send_approved_refunds()

    text = _text(receipts.render_receipt(payment, "de"))

    assert "Erstattungen" in text and "12,50 €" in text and "erstattet" in text
    assert "Teilweise zurück" not in text  # the treasury's reason is not part of the receipt


def test_an_unpaid_payment_has_no_receipt(app):
    with pytest.raises(PaymentError) as refused:
        receipts.render_receipt(make_payment(), "de")
    assert refused.value.code == "not_paid"


def test_the_payer_downloads_the_receipt_from_their_account(app, client):
    anna = make_user("anna@example.org")
    payment = make_paid_payment(Actor.for_user(anna))
    sign_in(client, anna)

    response = client.get(f"/konto/zahlungen/{payment.public_id}/quittung.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="quittung-{payment.kassenzeichen}.pdf"'
    assert "37,00 €" in _text(response.data)


def test_somebody_elses_receipt_is_not_found_in_the_account(app, client):
    payment = make_paid_payment(Actor.for_user(make_user("anna@example.org")))
    sign_in(client, make_user("bert@example.org"))
    assert client.get(f"/konto/zahlungen/{payment.public_id}/quittung.pdf").status_code == 404


def test_the_link_from_the_status_page_gives_the_receipt_only_when_paid(app, client):
    paid, unpaid = make_paid_payment(), make_payment(case_reference="T-2026-000002")

    page = client.get(f"/bezahlen/{paid.public_id}")
    assert f"/bezahlen/{paid.public_id}/quittung.pdf" in page.text
    response = client.get(f"/bezahlen/{paid.public_id}/quittung.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert format_kassenzeichen(paid.kassenzeichen) in _text(response.data)

    assert "quittung.pdf" not in client.get(f"/bezahlen/{unpaid.public_id}").text
    assert client.get(f"/bezahlen/{unpaid.public_id}/quittung.pdf").status_code == 404
    assert client.get("/bezahlen/" + "0" * 32 + "/quittung.pdf").status_code == 404


def test_the_treasury_may_download_any_receipt(app, client):
    payment = make_paid_payment(Actor.for_user(make_user("anna@example.org")))
    sign_in(client, make_treasurer())
    assert client.get(f"/konto/zahlungen/{payment.public_id}/quittung.pdf").status_code == 200
