"""Paying a fee in a real browser with the sandbox provider: pay, fail and retry, cancel, the receipt as a PDF,
the bank transfer with its GiroCode, and the treasury's pages; axe-core scans every page on the way."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in

pytestmark = pytest.mark.e2e

CITIZEN = "erika@example.org"


@dataclass(frozen=True)
class Bill:
    public_id: str
    kassenzeichen: str  # as printed: "26 100 000001 23"
    compact: str  # the 13 digits


def _bill(live: LiveServer, purpose: str = "Personalausweis", amount_cents: int = 3700, email: str = CITIZEN) -> Bill:
    """A payment order of the citizen `email` (made if missing), as another service would ask for one."""
    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.actors import Actor
    from portal.extensions import db
    from portal.references import format_kassenzeichen
    from tests.builders import make_user
    from tests.payments.builders import make_payment

    with live.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email)) or make_user(email, display_name="Erika")
        payment = make_payment(Actor.for_user(user), purpose=purpose, amount_cents=amount_cents)
        return Bill(payment.public_id, format_kassenzeichen(payment.kassenzeichen), payment.kassenzeichen)


def _stand(page: Page) -> str:
    """The "Stand" row of the payment's summary list, in words."""
    return page.locator("dt", has_text="Stand").locator("xpath=following-sibling::dd[1]").inner_text().strip()


def _to_sandbox(page: Page) -> None:
    page.get_by_role("button", name="Jetzt online bezahlen").click()
    page.wait_for_url("**/bezahlen/test-zahlung/sbx_*")
    expect(page.locator("h1")).to_contain_text("Testzahlung")


def test_citizen_pays_in_the_sandbox_sees_bezahlt_and_downloads_the_receipt(page: Page, live_server: LiveServer):
    from pypdf import PdfReader

    from tests.builders import PASSWORD

    bill = _bill(live_server)
    sign_in(page, live_server, CITIZEN, PASSWORD)
    goto(page, live_server("/konto/zahlungen"))
    expect(page.locator("h1")).to_have_text("Meine Zahlungen")
    expect(page.get_by_role("table")).to_contain_text(bill.kassenzeichen)
    assert_accessible(page, "Meine Zahlungen, one open payment")

    page.get_by_role("link", name=f"Ansehen und bezahlen – {bill.kassenzeichen}").click()
    expect(page.locator("h1")).to_have_text("Gebühr bezahlen")
    assert _stand(page) == "Offen"
    assert_accessible(page, "status page, unpaid")

    _to_sandbox(page)
    expect(page.locator("main")).to_contain_text("37,00 €")
    assert_accessible(page, "sandbox checkout")
    page.get_by_role("button", name="Zahlung erfolgreich").click()

    page.wait_for_url(f"**/bezahlen/{bill.public_id}?zurueck=1")
    expect(page.locator("h1")).to_have_text("Vielen Dank, die Zahlung ist eingegangen")
    assert _stand(page) == "Bezahlt"
    expect(page.locator("#ueberweisung")).to_have_count(0)  # paid: no transfer offered any more
    expect(page.get_by_role("button", name="Jetzt online bezahlen")).to_have_count(0)
    assert_accessible(page, "status page, paid")

    with page.expect_download() as info:
        page.get_by_role("link", name="Quittung herunterladen (PDF)").click()
    download = info.value
    assert download.suggested_filename == f"quittung-{bill.compact}.pdf"
    with open(download.path(), "rb") as file:
        pdf = file.read()
    assert pdf.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert bill.kassenzeichen in text and "37,00" in text

    goto(page, live_server("/konto/zahlungen"))
    row = page.get_by_role("row", name=bill.kassenzeichen)
    expect(row).to_contain_text("Bezahlt")
    expect(page.get_by_role("link", name=f"Quittung (PDF) – {bill.kassenzeichen}")).to_be_visible()
    assert_accessible(page, "Meine Zahlungen, paid")


def test_a_failed_payment_can_be_paid_on_a_second_try(page: Page, live_server: LiveServer):
    bill = _bill(live_server, "Reisepass", 7000)
    goto(page, live_server(f"/bezahlen/{bill.public_id}"))

    _to_sandbox(page)
    first_attempt = page.url
    page.get_by_role("button", name="Zahlung fehlgeschlagen").click()
    page.wait_for_url(f"**/bezahlen/{bill.public_id}?zurueck=1")
    expect(page.get_by_role("alert").or_(page.locator(".kern-alert")).first).to_contain_text(
        "Die Zahlung ist fehlgeschlagen"
    )
    assert _stand(page) == "Fehlgeschlagen"
    assert_accessible(page, "status page after a failure")

    _to_sandbox(page)
    assert page.url != first_attempt  # a new attempt, not the failed one again
    page.get_by_role("button", name="Zahlung erfolgreich").click()
    page.wait_for_url(f"**/bezahlen/{bill.public_id}?zurueck=1")
    assert _stand(page) == "Bezahlt"

    # The finished attempt's page cannot be used to pay (or fail) a second time.
    goto(page, first_attempt)
    expect(page.locator("main")).to_contain_text("Diese Testzahlung ist bereits abgeschlossen.")
    expect(page.get_by_role("button", name="Zahlung erfolgreich")).to_have_count(0)


def test_a_cancelled_payment_stays_open_to_pay(page: Page, live_server: LiveServer):
    bill = _bill(live_server, "Führungszeugnis", 1300)
    goto(page, live_server(f"/bezahlen/{bill.public_id}"))

    _to_sandbox(page)
    page.get_by_role("button", name="Abbrechen").click()

    page.wait_for_url(f"**/bezahlen/{bill.public_id}?abgebrochen=1")
    expect(page.locator("main")).to_contain_text("Die Zahlung wurde abgebrochen")
    expect(page.locator("main")).to_contain_text("Es wurde nichts abgebucht.")
    assert _stand(page) == "Abgebrochen"
    expect(page.get_by_role("button", name="Jetzt online bezahlen")).to_be_visible()
    assert_accessible(page, "status page after cancelling")


def test_an_unpaid_payment_offers_the_bank_transfer_with_a_girocode(page: Page, live_server: LiveServer):
    bill = _bill(live_server, "Gewerbeanmeldung", 2600)
    goto(page, live_server(f"/bezahlen/{bill.public_id}"))

    section = page.locator("#ueberweisung")
    expect(section.get_by_role("heading", name="Oder per Überweisung bezahlen")).to_be_visible()
    expect(section.locator("#bank-transfer-iban")).to_have_text("DE02 1203 0000 0000 2020 51")
    expect(section.locator("#bank-transfer-reference")).to_have_text(f"Kassenzeichen {bill.kassenzeichen}")
    expect(section).to_contain_text("26,00 €")
    girocode = section.locator("figure.girocode svg")
    expect(girocode).to_be_visible()
    box = girocode.bounding_box()
    assert box is not None and box["width"] >= 100 and box["height"] >= 100  # big enough to scan
    assert_accessible(page, "status page with the bank transfer")


def test_the_treasury_finds_the_payment_and_puts_a_services_refund_up(page: Page, live_server: LiveServer):
    from payments.services import refunds
    from portal.actors import SYSTEM
    from portal.references import format_kassenzeichen
    from tests.builders import PASSWORD
    from tests.payments.builders import make_paid_payment, make_treasurer

    with live_server.app.app_context():
        paid = make_paid_payment(purpose="Reisepass Erika", amount_cents=7000, case_reference="T-2026-000077")
        kassenzeichen, public_id = paid.kassenzeichen, paid.public_id
        # The booking was cancelled: appointments asks for the refund, which waits for the treasury.
        refunds.refund_for_case(SYSTEM, "appointments", "T-2026-000077", "Termin abgesagt")
        secret = make_treasurer().totp_secret
    shown = format_kassenzeichen(kassenzeichen)
    sign_in(page, live_server, "kasse@stadt.example", PASSWORD, secret)

    goto(page, live_server("/admin/kasse/"))
    expect(page.locator("h1")).to_have_text("Stadtkasse")
    waiting = page.get_by_role("table", name="Erstattungen, die vorgelegt werden müssen")
    expect(waiting.get_by_role("row", name=shown)).to_contain_text("Termin abgesagt")
    assert_accessible(page, "treasury start page with a refund waiting")
    waiting.get_by_role("button", name=f"Zur Freigabe vorlegen – {shown}").click()
    expect(page.locator("main")).to_contain_text("Die Erstattung ist zur Freigabe")
    expect(page.get_by_role("table", name="Erstattungen, die vorgelegt werden müssen")).to_have_count(0)
    assert_accessible(page, "treasury start page after putting the refund up")

    page.fill("#kassenzeichen", shown)
    page.locator("main form").first.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("status").first).to_contain_text("1 Zahlung gefunden.")
    row = page.get_by_role("row", name=shown)
    expect(row).to_contain_text("Reisepass Erika")
    expect(row).to_contain_text("T-2026-000077")
    expect(row).to_contain_text("70,00 €")
    assert_accessible(page, "treasury search result")

    goto(page, live_server("/admin/kasse/zahlungen?status=succeeded"))
    expect(page.get_by_role("row", name=shown)).to_be_visible()

    page.get_by_role("link", name=shown).click()
    page.wait_for_url(f"**/admin/kasse/zahlungen/{public_id}")
    expect(page.locator("main")).to_contain_text("T-2026-000077")
    assert_accessible(page, "treasury payment page")


def test_the_treasury_transfers_a_refund_of_a_bank_transfer_back_and_confirms_it(page: Page, live_server: LiveServer):
    from payments.services import refunds, statements
    from portal.actors import Actor
    from portal.approvals.services import decide
    from portal.references import format_kassenzeichen
    from tests.builders import PASSWORD
    from tests.payments.builders import make_payment, make_treasurer
    from tests.payments.test_statements import german_csv

    with live_server.app.app_context():
        tina, theo = make_treasurer(), make_treasurer("kasse2@stadt.example", "Theo Kasse")
        payment = make_payment(purpose="Sondernutzung Erika", amount_cents=4500, case_reference="T-2026-000088")
        shown = format_kassenzeichen(payment.kassenzeichen)
        statement = german_csv([("27.11.2026", "Erika Mustermann", f"Kassenzeichen {shown}", "45,00")])
        statements.import_statement(Actor.for_user(tina), "umsaetze.csv", statement)
        refund = refunds.request_refund(Actor.for_user(tina), payment.public_id, 4500, "Antrag zurückgenommen")
        decide(Actor.for_user(theo), refund.approval_request_id, approve=True)
        public_id, secret = payment.public_id, tina.totp_secret
    sign_in(page, live_server, "kasse@stadt.example", PASSWORD, secret)

    goto(page, live_server("/admin/kasse/"))
    due = page.get_by_role("table", name="Rücküberweisungen offen")
    expect(due.get_by_role("row", name=shown)).to_contain_text("DE89 3704 0044 0532 0130 00")
    assert_accessible(page, "treasury start page with a payout due")
    due.get_by_role("link", name=f"Rücküberweisung ausgeführt – {shown}").click()
    expect(page.locator("h1")).to_contain_text("Rücküberweisung")
    expect(page.locator("main")).to_contain_text("Erika Mustermann")
    assert_accessible(page, "payout page")

    page.get_by_role("button", name="Rücküberweisung ausgeführt").click()
    expect(page.locator("#error-summary")).to_contain_text("Referenz der Überweisung")
    assert_accessible(page, "payout page with an error")
    page.fill("#bank_reference", "UEB-2026-4711")
    page.get_by_role("button", name="Rücküberweisung ausgeführt").click()

    page.wait_for_url(f"**/admin/kasse/zahlungen/{public_id}")
    expect(page.locator("main")).to_contain_text("als ausgeführt bestätigt")
    expect(page.locator("main")).to_contain_text("UEB-2026-4711")
    assert _stand(page) == "Erstattet"
    assert_accessible(page, "treasury payment page after the payout")
