"""Paying by bank transfer: the account, the Kassenzeichen as reference and the GiroCode on the status page."""

from __future__ import annotations

import re
import secrets

import pytest

from payments.models import PaymentStatus
from payments.services import attempts, bank_transfer, orders
from portal import create_app
from portal.actors import SYSTEM
from portal.references import format_kassenzeichen
from portal.transaction import transaction
from tests.payments.builders import make_payment

DEMO_IBAN = "DE02120300000000202051"


def _lines(payload: bytes) -> list[str]:
    """The EPC payload as a bank app reads it: the charset line says how the bytes are encoded."""
    charset = payload.split(b"\n")[2]
    return payload.decode({b"1": "utf-8", b"2": "iso-8859-1"}[charset]).split("\n")


def test_girocode_payload_carries_recipient_iban_amount_and_kassenzeichen(app):
    payment = make_payment(amount_cents=3750)
    details = bank_transfer.details_for(payment)
    assert details is not None
    assert _lines(details.payload) == [
        "BCD",
        "002",
        "2",  # ISO 8859-1: everything fits
        "SCT",
        "BYLADEM1001",
        "Stadtkasse Musterstadt",
        DEMO_IBAN,
        "EUR37.50",
        "",  # no purpose code
        "",  # no structured (ISO 11649) reference
        f"Kassenzeichen {format_kassenzeichen(payment.kassenzeichen)}",
    ]
    assert len(details.payload) <= 331


def test_the_girocode_renders_as_inline_svg_with_a_text_alternative(app):
    details = bank_transfer.details_for(make_payment(amount_cents=3700))
    assert details is not None
    svg = details.svg
    assert svg.startswith('<svg role="img" ')
    assert "<script" not in svg and "style=" not in svg
    title = re.search(r"<title>(.*?)</title>", svg).group(1)
    assert "37,00 €" in title and "Stadtkasse Musterstadt" in title and details.remittance in title
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    assert 100 < width < 400  # a QR code of a few dozen modules at 4 px each, quiet zone included


def test_a_recipient_outside_latin_1_switches_the_payload_to_utf_8():
    payload = bank_transfer.epc_payload(
        name="Miasto Łódź", iban=DEMO_IBAN, amount_cents=100, text="Kassenzeichen 26 100 000042 64"
    )
    assert payload.split(b"\n")[2] == b"1"
    assert _lines(payload)[5] == "Miasto Łódź"


@pytest.mark.parametrize(
    "fields",
    [
        {"iban": "DE02120300000000202052"},  # one digit off: the check digits catch it
        {"iban": "DE02 1203"},
        {"amount_cents": 0},
        {"text": "x" * 141},
        {"name": "x" * 71},
        {"bic": "BYLA"},
    ],
)
def test_an_impossible_transfer_is_refused_rather_than_printed(fields):
    values = {"name": "Stadtkasse", "iban": DEMO_IBAN, "amount_cents": 100, "text": "Kassenzeichen 1", "bic": ""}
    values.update(fields)
    with pytest.raises(ValueError):
        bank_transfer.epc_payload(**values)


def test_iban_check_digits_and_grouping():
    assert bank_transfer.is_valid_iban("de02 1203 0000 0000 2020 51")
    assert not bank_transfer.is_valid_iban("DE20120300000000202051")  # two digits swapped
    assert bank_transfer.group_iban(DEMO_IBAN) == "DE02 1203 0000 0000 2020 51"


def test_the_status_page_of_an_unpaid_payment_offers_a_bank_transfer(app, client):
    payment = make_payment(amount_cents=3700)
    page = client.get(f"/bezahlen/{payment.public_id}").get_data(as_text=True)
    section = page[page.index('id="ueberweisung"') :]
    assert "Oder per Überweisung bezahlen" in section
    assert "Stadtkasse Musterstadt" in section
    assert "DE02 1203 0000 0000 2020 51" in section
    assert "BYLADEM1001" in section
    assert "37,00 €" in section
    assert f"Kassenzeichen {format_kassenzeichen(payment.kassenzeichen)}" in section
    assert '<svg role="img"' in section and "<title>GiroCode" in section
    assert "1 bis 3 Bankarbeitstage" in section


def test_a_paid_payment_offers_no_transfer(app, client):
    payment = make_payment()
    with transaction():
        orders.move(SYSTEM, orders._lock(payment.id), PaymentStatus.SUCCEEDED, reason="test")
    page = client.get(f"/bezahlen/{payment.public_id}").get_data(as_text=True)
    assert "Oder per Überweisung bezahlen" not in page
    assert "DE02 1203" not in page


def test_no_transfer_is_offered_while_an_online_payment_is_being_confirmed(app, client):
    payment = make_payment()
    attempts.start(SYSTEM, payment.public_id)
    waiting = client.get(f"/bezahlen/{payment.public_id}?zurueck=1").get_data(as_text=True)
    assert "Wir warten auf die Bestätigung" in waiting
    assert "Oder per Überweisung bezahlen" not in waiting
    # Having given up on the card payment, the payer may still transfer.
    assert "Oder per Überweisung bezahlen" in client.get(f"/bezahlen/{payment.public_id}").get_data(as_text=True)


PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(32),
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://root@127.0.0.1:5432/not_used_by_these_tests",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}


def test_production_refuses_to_start_with_an_iban_whose_check_digits_are_wrong(tmp_path):
    config = {**PRODUCTION, "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "k.pem")}
    create_app({**config, "PAYMENTS_BANK_IBAN": "DE89 3704 0044 0532 0130 00"}, env="production")
    with pytest.raises(RuntimeError, match="PAYMENTS_BANK_IBAN"):
        create_app({**config, "PAYMENTS_BANK_IBAN": "DE89370400440532013001"}, env="production")


def test_a_wrong_account_in_the_settings_hides_the_transfer_but_not_the_page(app, client):
    app.config["PAYMENTS_BANK_IBAN"] = "DE02120300000000202052"  # a typo in the operator's configuration
    payment = make_payment()
    page = client.get(f"/bezahlen/{payment.public_id}")
    assert page.status_code == 200 and "Jetzt online bezahlen" in page.text
    assert "Oder per Überweisung bezahlen" not in page.text


def test_production_refuses_the_demo_iban(tmp_path):
    config = {**PRODUCTION, "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "k.pem")}
    with pytest.raises(RuntimeError, match="PAYMENTS_BANK_IBAN is the demo example"):
        create_app({**config, "PAYMENTS_BANK_IBAN": DEMO_IBAN}, env="production")
