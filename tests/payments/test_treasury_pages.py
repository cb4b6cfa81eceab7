"""The treasury's pages at /admin/kasse: fees and tariffs, finding payments, asking for a refund."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from payments.forms import parse_euro
from payments.models import Fee, Payment, Refund
from payments.services import fees
from portal.actors import Actor
from portal.extensions import db
from portal.references import format_kassenzeichen
from tests.builders import csrf_from, make_user
from tests.payments.builders import make_fee, make_paid_payment, make_payment, make_treasurer
from tests.portal.admin.conftest import sign_in


@pytest.fixture
def tina(app, client):
    user = make_treasurer()
    sign_in(client, user)
    return user


def _post(client, url: str, data: dict, page_url: str | None = None):
    page = client.get(page_url or url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.text), **data})


@pytest.mark.parametrize(
    "url",
    [
        "/admin/kasse/",
        "/admin/kasse/gebuehren",
        "/admin/kasse/gebuehren/neu",
        "/admin/kasse/zahlungen",
        "/admin/kasse/zahlungen/" + "a" * 32,
    ],
)
def test_citizens_and_other_staff_get_403(app, client, url):
    sign_in(client, make_user("anna@example.org"))
    assert client.get(url).status_code == 403
    sign_in(client, make_user("clerk@stadt.example", roles=("moderator",), totp=True))
    assert client.get(url).status_code == 403


def test_the_admin_overview_links_to_the_treasury(app, client, tina):
    assert "/admin/kasse/" in client.get("/admin/").text


def test_a_new_fee_with_errors_keeps_what_was_typed_and_says_what_is_wrong(app, client, tina):
    response = _post(
        client,
        "/admin/kasse/gebuehren/neu",
        {"code": "pa ausweis!", "name": "Personalausweis für Erwachsene", "budget_line": "", "active": "y"},
    )
    assert response.status_code == 422
    text = response.text
    assert "Bitte korrigieren Sie Ihre Eingaben" in text
    assert "Geben Sie die Haushaltsstelle an." in text
    assert 'value="Personalausweis für Erwachsene"' in text and 'value="pa ausweis!"' in text
    assert 'aria-invalid="true"' in text

    # The service's rule (the key's shape) shows next to its field too.
    response = _post(
        client,
        "/admin/kasse/gebuehren/neu",
        {"code": "pa ausweis!", "name": "Personalausweis", "budget_line": "1.2.2.0.01.431100"},
    )
    assert response.status_code == 422
    assert 'id="code-error"' in response.text and "Großbuchstaben, Ziffern" in response.text
    assert db.session.scalar(sa.select(sa.func.count(Fee.id))) == 0


def test_a_fee_is_created_edited_and_gets_a_new_tariff(app, client, tina):
    created = _post(
        client,
        "/admin/kasse/gebuehren/neu",
        {"code": "pa-ausweis", "name": "Personalausweis", "budget_line": "1.2.2.0.01.431100", "active": "y"},
    )
    assert created.status_code == 302
    fee = db.session.scalar(sa.select(Fee).where(Fee.code == "PA-AUSWEIS"))
    assert fee.name == "Personalausweis" and fee.active

    edited = _post(
        client, "/admin/kasse/gebuehren/PA-AUSWEIS", {"name": "Personalausweis (ab 24 J.)", "budget_line": "1.2.2"}
    )
    assert edited.status_code == 302
    db.session.expire_all()
    fee = db.session.get(Fee, fee.id)
    assert (fee.code, fee.name, fee.active) == ("PA-AUSWEIS", "Personalausweis (ab 24 J.)", False)

    day = fees.today() + timedelta(days=1)
    added = _post(
        client,
        "/admin/kasse/gebuehren/PA-AUSWEIS/tarif",
        {"valid_from": day.isoformat(), "kind": "fixed", "amount_cents": "37,00"},
    )
    assert added.status_code == 302
    listing = client.get("/admin/kasse/gebuehren").text
    assert "37,00 €" in listing and day.strftime("%d.%m.%Y") in listing and "künftig" in listing


def test_a_tariff_form_with_a_bad_amount_or_a_past_day_keeps_the_values(app, client, tina):
    make_fee("SNU-GERUEST", None, rate_cents=150, unit="m² und Tag")
    url = "/admin/kasse/gebuehren/SNU-GERUEST/tarif"
    bad_amount = _post(client, url, {"valid_from": fees.today().isoformat(), "kind": "fixed", "amount_cents": "zwölf"})
    assert bad_amount.status_code == 422
    assert "Geben Sie den Betrag in Euro an, z. B. 12,50." in bad_amount.text and 'value="zwölf"' in bad_amount.text

    past = (fees.today() - timedelta(days=3)).isoformat()
    in_the_past = _post(client, url, {"valid_from": past, "kind": "rate", "rate_cents": "1,75", "unit": "m² und Tag"})
    assert in_the_past.status_code == 422
    assert "Ein neuer Tarif gilt frühestens ab heute." in in_the_past.text
    assert 'value="1,75"' in in_the_past.text and f'value="{past}"' in in_the_past.text


def test_search_by_kassenzeichen_tolerates_spaces_and_names_a_typo(app, client, tina):
    payment = make_paid_payment(purpose="Reisepass")
    make_payment(case_reference="T-2026-000002", purpose="Führungszeugnis")

    found = client.get(
        "/admin/kasse/zahlungen", query_string={"kassenzeichen": format_kassenzeichen(payment.kassenzeichen)}
    )
    assert found.status_code == 200
    assert "1 Zahlung gefunden." in found.text and "Reisepass" in found.text and "Führungszeugnis" not in found.text

    number = payment.kassenzeichen
    typo = number[:6] + str((int(number[6]) + 1) % 10) + number[7:]
    refused = client.get("/admin/kasse/zahlungen", query_string={"kassenzeichen": typo})
    assert refused.status_code == 422
    assert "Die Prüfziffer passt nicht zu diesem Kassenzeichen" in refused.text
    assert f'value="{typo}"' in refused.text

    short = client.get("/admin/kasse/zahlungen", query_string={"kassenzeichen": "12345"})
    assert "Ein Kassenzeichen hat 13 Ziffern" in short.text


def test_search_by_case_status_and_period(app, client, tina):
    paid = make_paid_payment(case_reference="T-2026-000077", purpose="Reisepass")
    make_payment(case_reference="T-2026-000078", purpose="Führungszeugnis")
    today = fees.today().isoformat()

    by_case = client.get("/admin/kasse/zahlungen", query_string={"case_reference": "t-2026-000077"}).text
    assert "Reisepass" in by_case and "Führungszeugnis" not in by_case
    by_status = client.get("/admin/kasse/zahlungen", query_string={"status": "created"}).text
    assert "Führungszeugnis" in by_status and "Reisepass" not in by_status
    by_day = client.get("/admin/kasse/zahlungen", query_string={"date_from": today, "date_to": today}).text
    assert "2 Zahlungen gefunden." in by_day
    reversed_period = client.get(
        "/admin/kasse/zahlungen",
        query_string={"date_from": today, "date_to": (fees.today() - timedelta(days=1)).isoformat()},
    )
    assert (
        reversed_period.status_code == 422 and "Das Ende des Zeitraums liegt vor seinem Beginn." in reversed_period.text
    )
    assert format_kassenzeichen(paid.kassenzeichen) in by_case


def test_the_payment_page_takes_a_refund_in_euros_with_a_comma(app, client, tina):
    payment = make_paid_payment(amount_cents=3700)
    url = f"/admin/kasse/zahlungen/{payment.public_id}"
    page = client.get(url)
    assert "Erstattung beantragen" in page.text and "Höchstens 37,00 €" in page.text

    asked = _post(client, f"{url}/erstattung", {"amount_cents": "12,50", "reason": "Zu viel berechnet"}, url)

    assert asked.status_code == 303
    refund = db.session.scalar(sa.select(Refund))
    assert (refund.amount_cents, refund.reason, refund.status) == (1250, "Zu viel berechnet", "awaiting_approval")
    detail = client.get(url).text
    assert "wartet auf Freigabe" in detail and "FRG-" in detail and "/admin/freigaben/" in detail
    assert "payment.refund_requested" in detail


def test_a_refund_over_the_remaining_amount_shows_the_error_next_to_the_amount(app, client, tina):
    payment = make_paid_payment(amount_cents=3700)
    url = f"/admin/kasse/zahlungen/{payment.public_id}"

    refused = _post(client, f"{url}/erstattung", {"amount_cents": "40,00", "reason": "Zu viel berechnet"}, url)

    assert refused.status_code == 409
    assert 'id="amount_cents-error"' in refused.text and "höchstens 37,00 €" in refused.text
    assert 'value="40,00"' in refused.text and "Zu viel berechnet" in refused.text
    assert db.session.get(Payment, payment.id).refund_reserved_cents == 0

    empty = _post(client, f"{url}/erstattung", {"amount_cents": "", "reason": ""}, url)
    assert empty.status_code == 422
    assert "Geben Sie den Betrag an, der erstattet werden soll." in empty.text


def test_an_api_clients_refund_is_put_up_from_the_overview(app, client, tina):
    from payments.services import refunds
    from tests.payments.builders import api_client_actor

    payment = make_paid_payment(amount_cents=3700)
    refund = refunds.request_refund(api_client_actor(), payment.public_id, 500, "Fachverfahren: storniert")
    overview = client.get("/admin/kasse/")
    assert "Fachverfahren: storniert" in overview.text

    submitted = client.post(
        f"/admin/kasse/erstattungen/{refund.id}/vorlegen", data={"csrf_token": csrf_from(overview.text)}
    )

    assert submitted.status_code == 303
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).approval_request_id is not None
    assert "Fachverfahren: storniert" not in client.get("/admin/kasse/").text.split("Freigegebene")[0]


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("12,50", 1250),
        ("12,5", 1250),
        ("37", 3700),
        ("1.234,56", 123456),
        ("12.50", 1250),
        (" 7,00 € ", 700),
        ("1.500", 150000),
    ],
)
def test_amounts_in_euros_are_read_exactly(typed, cents):
    assert parse_euro(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "12,505", "-5", "0", "0,00", "1,2,3", "12.5.0", "9" * 30, "1e3", "١٢"])
def test_amounts_that_are_not_euros_are_refused(typed):
    with pytest.raises(ValueError):
        parse_euro(typed)


def test_the_treasury_sees_whose_payment_it_is(app, client, tina):
    anna = make_user("anna@example.org")
    payment = make_paid_payment(Actor.for_user(anna))
    assert "anna@example.org" in client.get(f"/admin/kasse/zahlungen/{payment.public_id}").text
