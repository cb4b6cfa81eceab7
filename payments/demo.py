"""Demo data of the payments service: a fee catalogue for the demo services and a few payments of the demo citizen.

Runs after the core demo data (portal/demo_data.py), which creates the departments and the accounts. Idempotent:
a fee is found by its code and a demo payment by its case reference, and what exists is left alone, so another
`flask demo load` creates nothing (and a treasurer's changes to the demo catalogue survive it). Refused unless
DEMO is on, like the core's part.

Everything here is audited as the system, like the rest of the demo data. The payments go through the real
services and the sandbox provider's own path (attempt started, the tester's choice applied as a provider event),
so they look exactly like payments a newcomer makes by hand. The refund is asked for the way another service
asks (a paid booking was cancelled): it waits on the treasury's start page until a treasury person puts it up
for the four-eyes decision. The demo has two treasury accounts (kasse@ and kasse2@): one puts the refund up, the
other decides it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

import payments.actions  # noqa: F401  (declares payment.fee_saved and payment.fee_version_added)
from payments.models import Fee, FeeVersion, Payment, PaymentStatus
from payments.services import attempts, orders, refunds
from payments.services.events import CheckoutEvent, apply_checkout_event
from payments.services.fees import today
from payments.services.orders import Payer
from portal.accounts.models import User
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.demo_data import DEMO_DOMAIN, _require_demo
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.transaction import transaction

SERVICE = "demo"  # the demo payments belong to no real case of another service
CITIZEN = f"buerger@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class DemoFee:
    code: str  # other services' demo data name these codes (appointments: PERSONALAUSWEIS, REISEPASS)
    name: str
    department: str  # slug
    budget_line: str
    description: str
    amount_cents: int | None = None
    rate_cents: int | None = None
    unit: str | None = None
    minimum_cents: int = 0


FEES = [
    DemoFee(
        "PERSONALAUSWEIS",
        "Personalausweis (ab 24 Jahren)",
        "buergeramt",
        "1.2.2.0.01.431100",
        "Gebühr für einen Personalausweis nach der Personalausweisgebührenverordnung.",
        amount_cents=3700,
    ),
    DemoFee(
        "REISEPASS",
        "Reisepass (ab 24 Jahren)",
        "buergeramt",
        "1.2.2.0.01.431100",
        "Gebühr für einen Reisepass mit 32 Seiten nach der Passverordnung.",
        amount_cents=7000,
    ),
    DemoFee(
        "GEWERBEANMELDUNG",
        "Gewerbeanmeldung",
        "buergeramt",
        "1.2.2.0.02.431100",
        "Gebühr für die Anzeige eines Gewerbes (Gewerbeanmeldung).",
        amount_cents=2600,
    ),
    DemoFee(
        "FUEHRUNGSZEUGNIS",
        "Führungszeugnis",
        "buergeramt",
        "1.2.2.0.03.431100",
        "Gebühr für ein Führungszeugnis, bei der Antragstellung im Bürgerbüro erhoben.",
        amount_cents=1300,
    ),
    DemoFee(
        "SONDERNUTZUNG-GERUEST",
        "Sondernutzung: Gerüst auf öffentlicher Verkehrsfläche",
        "verkehr-tiefbau",
        "5.4.1.0.01.431200",
        "Sondernutzungsgebühr für ein Gerüst je angefangenem Quadratmeter und Tag, mindestens 25,00 €.",
        rate_cents=150,
        unit="m² und Tag",
        minimum_cents=2500,
    ),
]


@dataclass(frozen=True)
class DemoPayment:
    case_reference: str
    fee_code: str
    purpose: str
    outcome: str  # open, succeeded, failed, refund_asked
    refund_reason: str = ""


PAYMENTS = [
    DemoPayment("DEMO-REISEPASS-1", "REISEPASS", "Reisepass Erika Mustermann", "succeeded"),
    DemoPayment("DEMO-FUEHRUNGSZEUGNIS-1", "FUEHRUNGSZEUGNIS", "Führungszeugnis Erika Mustermann", "failed"),
    DemoPayment(
        "DEMO-PERSONALAUSWEIS-1",
        "PERSONALAUSWEIS",
        "Personalausweis Erika Mustermann",
        "refund_asked",
        refund_reason="Termin im Bürgerbüro abgesagt: Gebühr wird erstattet",
    ),
    DemoPayment("DEMO-GEWERBEANMELDUNG-1", "GEWERBEANMELDUNG", "Gewerbeanmeldung Erika Mustermann", "open"),
]


class _Loader:
    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.created: Counter[str] = Counter()
        self.present: Counter[str] = Counter()

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.present)[kind] += 1

    def step_done(self, kind: str, label: str) -> None:
        self.echo(f"  {label}: {self.created[kind]} created, {self.present[kind]} already present")

    def fees(self) -> None:
        """The catalogue, valid from the first of this year (the service refuses tariffs in the past: a demo
        may start its history earlier). Audited as the treasury's own changes would be."""
        valid_from = date(today().year, 1, 1)
        with transaction():
            for item in FEES:
                exists = db.session.scalar(sa.select(Fee.id).where(Fee.code == item.code))
                self.count("fees", exists is None)
                if exists is not None:
                    continue
                department = get_department_by_slug(item.department)
                fee = Fee(
                    code=item.code,
                    name=item.name,
                    description=item.description,
                    budget_line=item.budget_line,
                    department_id=department.id if department else None,
                    active=True,
                )
                version = FeeVersion(
                    valid_from=valid_from,
                    amount_cents=item.amount_cents,
                    rate_cents=item.rate_cents,
                    unit=item.unit,
                    minimum_cents=item.minimum_cents,
                )
                fee.versions.append(version)
                db.session.add(fee)
                db.session.flush()
                audit.record(
                    "payment.fee_saved", SYSTEM, target=fee, code=item.code, budget_line=item.budget_line, active=True
                )
                audit.record(
                    "payment.fee_version_added",
                    SYSTEM,
                    target=version,
                    code=item.code,
                    valid_from=valid_from.isoformat(),
                    amount_cents=item.amount_cents,
                    rate_cents=item.rate_cents,
                )

    def payment(self, item: DemoPayment, payer: Payer) -> None:
        """Create the payment if missing, then take it as far as its story goes (so an interrupted load finishes
        on the next run instead of leaving a payment half-way)."""
        found = orders.payments_for_case(SERVICE, item.case_reference)
        self.count("payments", not found)
        payment = found[0] if found else None
        if payment is None:
            payment = orders.request_payment(
                SYSTEM,
                service=SERVICE,
                case_reference=item.case_reference,
                purpose=item.purpose,
                fee_code=item.fee_code,
                payer=payer,
            )
        if payment.provider != "sandbox" or item.outcome == "open":
            return
        if payment.status == PaymentStatus.CREATED.value:
            attempts.start(SYSTEM, payment.public_id)
            db.session.refresh(payment)
        if payment.status == PaymentStatus.STARTED.value:
            attempt = orders.latest_attempt(payment)
            assert attempt is not None and attempt.provider_reference
            choice = "failed" if item.outcome == "failed" else "succeeded"
            apply_checkout_event(
                SYSTEM,
                CheckoutEvent(
                    "sandbox",
                    f"sbx_evt_demo_{attempt.provider_reference}",  # the same id on a rerun: applied once
                    f"sandbox.{choice}",
                    attempt.provider_reference,
                    method="card",
                ),
            )
            db.session.refresh(payment)
        if item.outcome == "refund_asked" and payment.refund_reserved_cents == 0:
            made = refunds.refund_for_case(SYSTEM, SERVICE, item.case_reference, item.refund_reason)
            self.count("refunds", bool(made))
        elif item.outcome == "refund_asked":
            self.count("refunds", False)


def load(echo: Callable[[str], None] = print) -> dict[str, int]:
    """Add the demo fee catalogue and the demo citizen's payments; returns how many of each kind were created."""
    _require_demo()
    loader = _Loader(echo)
    echo("Payments …")
    loader.fees()
    loader.step_done("fees", "fees")
    citizen = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == CITIZEN))
    if citizen is None:
        echo(f"  skipped the demo payments: {CITIZEN} missing (run the core demo first)")
    elif current_app.config["PAYMENT_PROVIDER"] != "sandbox" and not _demo_payments_exist():
        # A demo payment is paid through the sandbox; with Stripe configured there is nobody to pay it.
        echo("  skipped the demo payments: PAYMENT_PROVIDER is not the sandbox")
    else:
        payer = Payer(user_id=citizen.id, email=citizen.email)
        for item in PAYMENTS:
            loader.payment(item, payer)
        loader.step_done("payments", "demo payments")
        loader.step_done("refunds", "refunds waiting for the treasury")
    created, present = sum(loader.created.values()), sum(loader.present.values())
    if created:
        echo(f"  payments: {created} created, {present} already present")
    else:
        echo(f"  payments: nothing changed – all {present} demo records were already present")
    return dict(loader.created)


def _demo_payments_exist() -> bool:
    return db.session.scalar(sa.select(Payment.id).where(Payment.service == SERVICE).limit(1)) is not None
