"""The treasury's day: what was paid, refunded and is outstanding on a Berlin calendar day, and its CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from payments.errors import PaymentError
from payments.models import Payment, Refund
from payments.services import reconciliation, statements
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.references import format_kassenzeichen
from portal.timeutil import BERLIN
from tests.builders import csrf_from, make_user
from tests.payments.builders import make_fee, make_paid_payment, make_payment, make_treasurer

DAY = date(2026, 11, 27)


def berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def _at(payment: Payment, *, created: datetime | None = None, paid: datetime | None = None) -> Payment:
    """Move a payment's timestamps to the day the test is about (the test data's clock, not the rules')."""
    if created is not None:
        payment.created_at = created
    if paid is not None:
        payment.succeeded_at = payment.finished_at = paid
    db.session.commit()
    return payment


def _refunded(payment: Payment, cents: int, finished: datetime | None, status: str = "succeeded") -> Refund:
    """A refund in the state the provider's confirmation leaves it (the four-eyes path is tested elsewhere)."""
    refund = Refund(
        payment_id=payment.id,
        amount_cents=cents,
        reason="Antrag zurückgenommen",
        status=status,
        idempotency_key=f"test-refund-{payment.id}-{cents}",
        provider_reference=f"re_test_{payment.id}" if status == "succeeded" else None,
        finished_at=finished,
    )
    payment.refund_reserved_cents += cents
    if status == "succeeded":
        payment.refunded_cents += cents
        payment.status = "partially_refunded" if payment.refunded_cents < payment.amount_cents else "refunded"
    db.session.add(refund)
    db.session.commit()
    return refund


@pytest.fixture
def treasurer() -> Actor:
    return Actor.for_user(make_treasurer())


@pytest.fixture
def day_of_payments(app, treasurer):
    """A day with a card payment, a bank transfer late in the evening, a refund, and orders left open."""
    make_fee("PA-AUSWEIS", 3700, budget_line="1.2.2.0.01.431100")
    card = _at(
        make_paid_payment(amount_cents=None, fee_code="PA-AUSWEIS", case_reference="T-2026-000101"),
        created=berlin(27, 9),
        paid=berlin(27, 9, 15),
    )
    transfer = make_payment(amount_cents=7000, purpose="Reisepass", case_reference="T-2026-000102")
    _at(transfer, created=berlin(25, 10))
    statements.import_statement(
        treasurer,
        "auszug.csv",
        (
            "Buchungstag;Betrag;Verwendungszweck;Bankreferenz\r\n"
            f"27.11.2026;70,00;Kassenzeichen {format_kassenzeichen(transfer.kassenzeichen)};BANKREF-0815\r\n"
        ).encode(),
    )
    _at(transfer, paid=berlin(27, 23, 30))  # still the 27th in Berlin, already the 27th 22:30 in UTC
    after_midnight = _at(
        make_paid_payment(amount_cents=1500, case_reference="T-2026-000103"),
        created=berlin(27, 10),
        paid=berlin(28, 0, 10),  # the 27th 23:10 in UTC, but the 28th in Berlin: open at the end of the 27th
    )
    older_open = _at(make_payment(amount_cents=2000, case_reference="T-2026-000104"), created=berlin(20, 8))
    _at(make_payment(amount_cents=9900, case_reference="T-2026-000105"), created=berlin(28, 8))  # not yet there
    refunded = _at(
        make_paid_payment(amount_cents=5000, case_reference="T-2026-000106"),
        created=berlin(20, 8),
        paid=berlin(20, 9),
    )
    refund = _refunded(refunded, 1000, berlin(27, 14))
    _refunded(card, 500, None, status="awaiting_approval")  # asked for, not paid out: not in the day
    return {
        "card": card,
        "transfer": transfer,
        "after_midnight": after_midnight,
        "older_open": older_open,
        "refunded": refunded,
        "refund": refund,
    }


def test_the_day_counts_payments_refunds_and_what_is_outstanding_in_berlin_time(app, treasurer, day_of_payments):
    report = reconciliation.day_report(treasurer, DAY)
    assert [b.kassenzeichen for b in report.paid] == [
        day_of_payments["card"].kassenzeichen,
        day_of_payments["transfer"].kassenzeichen,
    ]
    assert report.paid_cents == 3700 + 7000
    assert [(b.kassenzeichen, b.amount_cents) for b in report.refunded] == [
        (day_of_payments["refunded"].kassenzeichen, -1000)
    ]
    assert report.refunded_cents == 1000
    assert report.net_cents == 9700
    assert {b.kassenzeichen for b in report.outstanding} == {
        day_of_payments["older_open"].kassenzeichen,
        day_of_payments["after_midnight"].kassenzeichen,
    }
    assert (report.outstanding_count, report.outstanding_cents) == (2, 3500)
    card, transfer = report.paid
    assert (card.provider, card.method, card.budget_line) == ("sandbox", "card", "1.2.2.0.01.431100")
    assert card.provider_reference and card.provider_reference.startswith("sbx_")
    assert (transfer.provider, transfer.method, transfer.provider_reference) == (
        "bank",
        "bank_transfer",
        "BANKREF-0815",
    )
    assert reconciliation.day_report(treasurer, date(2026, 11, 28)).paid[0].kassenzeichen == (
        day_of_payments["after_midnight"].kassenzeichen
    )


def test_a_day_is_a_berlin_calendar_day_even_when_the_clocks_change():
    start, end = reconciliation.day_bounds(date(2026, 10, 25))  # summer time ends: 25 hours
    assert start == datetime(2026, 10, 24, 22, tzinfo=UTC)  # midnight in summer time, UTC+2
    assert (end - start).total_seconds() == 25 * 3600
    start, end = reconciliation.day_bounds(date(2026, 3, 29))  # summer time begins: 23 hours
    assert (end - start).total_seconds() == 23 * 3600
    with pytest.raises(PaymentError):
        reconciliation.day_bounds(date(1, 1, 1))


def test_the_csv_export_has_the_columns_the_cash_system_reads_and_is_audited(app, treasurer, day_of_payments):
    body = reconciliation.export_csv(treasurer, DAY)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows the umlauts
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Buchungsart",
        "Kassenzeichen",
        "Haushaltsstelle",
        "Bruttobetrag",
        "Gebühren",
        "Zahlungsdienst",
        "Referenz des Zahlungsdienstes",
        "Zahlungsart",
        "Angelegt am",
        "Bezahlt/erstattet am",
        "Aktenzeichen",
        "Verwendungszweck",
    ]
    by_kind = {(r[0], r[1]): r for r in rows[1:]}
    assert len(rows) == 4  # two payments, one refund; open orders are not bookings
    card = by_kind[("Zahlung", day_of_payments["card"].kassenzeichen)]
    assert card[2:4] == ["1.2.2.0.01.431100", "37,00"]
    assert card[4] == ""  # the provider's fee is not known
    assert card[5] == "sandbox" and card[6].startswith("sbx_") and card[7] == "card"
    assert card[8:] == ["2026-11-27 09:00", "2026-11-27 09:15", "T-2026-000101", "Personalausweis"]
    transfer = by_kind[("Zahlung", day_of_payments["transfer"].kassenzeichen)]
    assert transfer[3:10] == [
        "70,00",
        "",
        "bank",
        "BANKREF-0815",
        "bank_transfer",
        "2026-11-25 10:00",
        "2026-11-27 23:30",
    ]
    refund = by_kind[("Erstattung", day_of_payments["refunded"].kassenzeichen)]
    assert refund[3] == "-10,00" and refund[6] == f"re_test_{day_of_payments['refunded'].id}"
    assert refund[9] == "2026-11-27 14:00"
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "payment.reconciliation_exported"))
    details = [json.loads(e.details) for e in events]
    assert details == [{"day": "2026-11-27", "format": "csv", "rows": 3, "paid_cents": 10700, "refunded_cents": 1000}]


def test_a_text_that_looks_like_a_formula_cannot_run_in_the_spreadsheet(app, treasurer):
    _at(make_payment(purpose='=HYPERLINK("http://evil.example")'), paid=berlin(27, 12))
    rows = list(csv.reader(io.StringIO(reconciliation.export_csv(treasurer, DAY).decode("utf-8-sig")), delimiter=";"))
    assert rows[1][11].startswith("'=HYPERLINK")


def test_only_the_treasury_reads_the_day(app):
    person = Actor.for_user(make_user("clerk@stadt.example", roles=("moderator",)))
    with pytest.raises(Forbidden):
        reconciliation.day_report(person, DAY)
    with pytest.raises(Forbidden):
        reconciliation.export_csv(person, DAY)


def test_the_treasury_picks_a_day_and_downloads_its_csv(app, client, auth, treasurer, day_of_payments):
    auth.login(treasurer.user.email)
    auth.totp(treasurer.user)
    page = client.get("/admin/kasse/tagesabschluss?datum=2026-11-27")
    assert page.status_code == 200
    assert "107,00 €" in page.text and "10,00 €" in page.text and "35,00 €" in page.text
    assert format_kassenzeichen(day_of_payments["transfer"].kassenzeichen) in page.text
    download = client.post(
        "/admin/kasse/tagesabschluss/export", data={"csrf_token": csrf_from(page.text), "datum": "2026-11-27"}
    )
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="tagesabschluss-2026-11-27.csv"' in download.headers["Content-Disposition"]
    assert download.data.decode("utf-8-sig").count("\r\n") == 4
    bad = client.get("/admin/kasse/tagesabschluss?datum=27.13.2026")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert client.post("/admin/kasse/tagesabschluss/export", data={"datum": "2026-11-27"}).status_code == 400


def test_a_withdrawn_order_is_no_longer_outstanding(app):
    from payments.services import orders
    from payments.services.fees import today
    from portal.actors import SYSTEM

    kept, withdrawn = make_payment(case_reference="T-1"), make_payment(case_reference="T-2")
    orders.cancel_for_case(SYSTEM, "appointments", "T-2")
    report = reconciliation.day_report(Actor.for_user(make_treasurer()), today())
    outstanding = {b.kassenzeichen for b in report.outstanding}
    assert kept.kassenzeichen in outstanding and withdrawn.kassenzeichen not in outstanding
