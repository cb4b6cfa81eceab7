"""`flask demo load` for payments: the fee catalogue, the demo citizen's payments in every state; idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from payments.models import Fee, Payment, ProviderEvent, Refund
from payments.services import fees
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.references import format_kassenzeichen
from tests.portal.admin.conftest import sign_in

PAYMENT_TABLES = (Fee, Payment, Refund, ProviderEvent, AuditEvent)


def _load(runner) -> str:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in PAYMENT_TABLES}


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None
    return user


def test_loading_the_demo_twice_creates_the_payments_once_and_says_so(runner):
    first = _load(runner)
    after_first = _counts()
    second = _load(runner)

    assert _counts() == after_first
    assert "fees: 5 created, 0 already present" in first
    assert "demo payments: 4 created, 0 already present" in first
    assert "fees: 0 created, 5 already present" in second
    assert "payments: nothing changed" in second
    assert after_first["payment"] == 4 and after_first["payment_refund"] == 1


def test_the_demo_catalogue_has_the_fees_the_demo_services_name(runner):
    _load(runner)
    amounts = {code: fees.amount_for(fees.version_for(code)) for code in ("PERSONALAUSWEIS", "REISEPASS")}
    assert amounts == {"PERSONALAUSWEIS": 3700, "REISEPASS": 7000}
    assert fees.amount_for(fees.version_for("GEWERBEANMELDUNG")) == 2600
    assert fees.amount_for(fees.version_for("FUEHRUNGSZEUGNIS")) == 1300
    scaffold = fees.version_for("SONDERNUTZUNG-GERUEST")
    assert scaffold.unit == "m² und Tag"
    assert fees.amount_for(scaffold, 12 * 14) == 25200  # 12 m² for 14 days at 1,50 €
    assert fees.amount_for(scaffold, 3) == 2500  # the minimum
    assert all(fee.budget_line and fee.department_id for fee in fees.list_fees())


def test_the_demo_citizen_sees_a_paid_a_failed_a_refund_and_an_open_payment(runner, client):
    _load(runner)
    sign_in(client, _user("buerger@demo.stadtportal.example"))

    page = client.get("/konto/zahlungen")

    assert page.status_code == 200
    text = page.text
    for purpose in ("Reisepass", "Führungszeugnis", "Personalausweis", "Gewerbeanmeldung"):
        assert f"{purpose} Erika Mustermann" in text
    assert "Bezahlt" in text and "Fehlgeschlagen" in text and "Offen" in text
    assert "70,00 €" in text and "13,00 €" in text and "37,00 €" in text and "26,00 €" in text
    paid = db.session.scalars(sa.select(Payment).where(Payment.status == "succeeded")).all()
    assert sorted(p.fee_code for p in paid) == ["PERSONALAUSWEIS", "REISEPASS"]
    assert all(p.method == "card" for p in paid)
    for payment in paid:
        receipt = client.get(f"/konto/zahlungen/{payment.public_id}/quittung.pdf")
        assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")
    open_order = db.session.scalar(sa.select(Payment).where(Payment.fee_code == "GEWERBEANMELDUNG"))
    assert open_order is not None and open_order.status == "created"
    status_page = client.get(f"/bezahlen/{open_order.public_id}").text
    assert "Jetzt online bezahlen" in status_page and "Oder per Überweisung bezahlen" in status_page


def test_the_demo_refund_waits_for_the_demo_treasurer(runner, client):
    _load(runner)
    refund = db.session.scalar(sa.select(Refund))
    assert refund is not None and refund.status == "awaiting_approval" and refund.approval_request_id is None
    assert refund.amount_cents == 3700 and refund.payment.refund_reserved_cents == 3700
    sign_in(client, _user("kasse@demo.stadtportal.example"))

    page = client.get("/admin/kasse/")

    assert page.status_code == 200
    assert format_kassenzeichen(refund.payment.kassenzeichen) in page.text
    assert "Termin im Bürgerbüro abgesagt" in page.text
    assert "Zur Freigabe vorlegen" in page.text  # she can put it up from here; a second person decides


def test_the_demo_payments_are_audited_as_the_system(runner):
    _load(runner)
    actions = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor_type).where(AuditEvent.action.like("payment.%"))
    ).all()
    assert {actor for _action, actor in actions} == {"system"}
    assert {"payment.fee_saved", "payment.created", "payment.status_changed", "payment.refund_requested"} <= {
        action for action, _actor in actions
    }
