"""Paying a paper notice: its Kassenzeichen and amount together lead to the payment page."""

from __future__ import annotations

import pytest

from portal.references import format_kassenzeichen
from tests.builders import csrf_from
from tests.payments.builders import make_payment


def _find(client, kassenzeichen: str, amount: str):
    page = client.get("/bezahlen/")
    return client.post(
        "/bezahlen/", data={"csrf_token": csrf_from(page.text), "kassenzeichen": kassenzeichen, "amount_cents": amount}
    )


def test_the_landing_page_is_in_the_navigation_and_explains_the_ways_to_pay(client):
    page = client.get("/bezahlen/")
    assert page.status_code == 200
    assert "Gebühren online bezahlen" in page.text and "115" in page.text
    assert 'href="/bezahlen/"' in client.get("/").text


def test_kassenzeichen_and_amount_from_the_notice_lead_to_the_payment(app, client):
    payment = make_payment(amount_cents=3700)
    response = _find(client, format_kassenzeichen(payment.kassenzeichen), "37,00")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/bezahlen/{payment.public_id}")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("36,00", "finden wir keine Zahlung"), ("", "Geben Sie den Betrag"), ("zwölf", "Geben Sie den Betrag in Euro an")],
)
def test_a_wrong_or_missing_amount_finds_nothing_and_keeps_what_was_typed(app, client, amount, message):
    payment = make_payment(amount_cents=3700)
    response = _find(client, payment.kassenzeichen, amount)
    assert response.status_code == 422
    assert message in response.text
    assert f'value="{payment.kassenzeichen}"' in response.text


def test_a_kassenzeichen_with_a_typo_is_named_as_such(app, client):
    payment = make_payment(amount_cents=3700)
    typo = payment.kassenzeichen[:-1] + str((int(payment.kassenzeichen[-1]) + 1) % 10)
    response = _find(client, typo, "37,00")
    assert response.status_code == 422
    assert "nicht gültig" in response.text


@pytest.mark.parametrize("junk", ["\x00", "9" * 5000, "'; DROP TABLE payment; --"])
def test_junk_never_answers_500(app, client, junk):
    assert _find(client, junk, junk).status_code == 422
