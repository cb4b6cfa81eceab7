"""Treasury rows the demo data lacks, so the form crawl reaches the buttons acting on them (issue 11: shrink
UNREACHED). The treasury imports a day's bank statement (the online banking's CSV) with four credits: one pays a
payment order in full by transfer, one names a payment's Kassenzeichen with the wrong amount (so its line offers that
payment to assign), two name none (a line to mark returned). The transfer-paid payment gets a refund, asked by one
treasury person and approved by the other, which the treasury then pays back by its own transfer (the payout form).
A third payment is opened in the sandbox provider, whose test page is otherwise reached only by a redirect.

Made through the services, each audited. Returns the pages the crawl should start from, by person: the crawl's
page budget per endpoint would otherwise pick other payments' pages first.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, url_for

from portal.accounts.models import User
from portal.actors import SYSTEM, Actor
from portal.extensions import db


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def payment_rows(demo_domain: str) -> dict[str | None, list[str]]:
    """Call inside an app context, after the demo data is loaded."""
    with current_app.test_request_context("/"):
        return _payment_rows(demo_domain)


def _payment_rows(demo_domain: str) -> dict[str | None, list[str]]:
    from payments.models import Payment, PaymentStatus
    from payments.models_bank import BankStatementLine
    from payments.services import attempts, orders, refunds, statements
    from payments.services.orders import Payer
    from portal.approvals.services import decide
    from portal.references import format_kassenzeichen

    treasurer, second, citizen = (_user(f"{name}@{demo_domain}") for name in ("kasse", "kasse2", "buerger"))
    if treasurer is None or second is None or citizen is None:
        return {}
    payer = Payer(user_id=citizen.id, email=citizen.email)

    def order(case: str, purpose: str) -> Payment:
        return orders.request_payment(
            SYSTEM, service="demo", case_reference=case, purpose=purpose, fee_code="REISEPASS", payer=payer
        )

    by_transfer = order("FUZZ-UEBERWEISUNG-1", "Reisepass (Überweisung)")
    short = order("FUZZ-ABWEICHEND-1", "Reisepass (zu wenig überwiesen)")
    in_sandbox = order("FUZZ-SANDBOX-1", "Reisepass (Testzahlung)")
    header = "Buchungstag;Valuta;Name Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;Verwendungszweck;Betrag;Währung"
    iban = "DE89370400440532013000"
    lines = [
        (f"Kassenzeichen {format_kassenzeichen(by_transfer.kassenzeichen)}", by_transfer.amount_cents),
        (f"Kassenzeichen {format_kassenzeichen(short.kassenzeichen)}", short.amount_cents - 1000),
        ("Gebuehr Container", 3940),
        ("Sondernutzung Markt", 2500),
    ]
    rows = [f'01.12.2026;01.12.2026;Erika Mustermann;{iban};"{text}";{_euros(cents)};EUR' for text, cents in lines]
    total = sum(cents for _text, cents in lines)
    balance = f"Neuer Kontostand;;;;;{_euros(total)};EUR"
    text = "\r\n".join(["Kontoinhaber;Stadtkasse Musterstadt", "", header, *rows, balance])
    statements.import_statement(Actor.for_user(treasurer), "umsaetze-fuzz.csv", (text + "\r\n").encode())

    db.session.expire_all()
    paid = db.session.get(Payment, by_transfer.id)
    starts: dict[str | None, list[str]] = {None: [], "kasse": []}
    if paid is not None and paid.status == PaymentStatus.SUCCEEDED.value:
        refund = refunds.request_refund(Actor.for_user(treasurer), paid.public_id, 1200, "Doppelt bezahlt")
        if refund.approval_request_id is not None:
            decide(Actor.for_user(second), refund.approval_request_id, approve=True)
            refunds.send_approved_refunds()
            starts["kasse"].append(url_for("payments_treasury.payout", refund_id=refund.id))
        # A refund of the rest is still possible, so the payment's page shows the refund form.
        starts["kasse"].append(url_for("payments_treasury.payment_detail", public_id=paid.public_id))
    line = db.session.scalar(sa.select(BankStatementLine).where(BankStatementLine.kassenzeichen == short.kassenzeichen))
    if line is not None:
        starts["kasse"].append(url_for("payments_reconciliation.line_detail", line_id=line.id))
    starts[None].append(urlsplit(attempts.start(Actor.for_user(citizen), in_sandbox.public_id)).path)
    return starts
