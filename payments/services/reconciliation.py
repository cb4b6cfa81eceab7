"""The treasury's daily reconciliation: what was paid, refunded and is still outstanding on a day.

A day is a calendar day in Europe/Berlin, from local midnight to local midnight (23 or 25 hours when the
clocks change). Paid: orders whose payment succeeded that day (whatever happened to them later). Refunded:
refunds the provider confirmed that day, or, for bank transfers, whose transfer back the treasury confirmed that
day (with the bank's reference of that transfer). Outstanding: orders created up to the end of that day and not paid
by then, however old (an unsuccessful attempt ends the attempt, not the debt).

The same report feeds the treasury's page, its CSV export for the city's budget and cash system, and
`GET /api/v1/payments/reconciliation`; every export is audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

import payments.actions  # noqa: F401  (declares the audit actions)
from payments.errors import PaymentError
from payments.models import AttemptStatus, Payment, PaymentAttempt, PaymentStatus, Refund, RefundStatus
from payments.services import statements
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.spreadsheets import formula_safe as _cell  # CSV injection guard
from portal.timeutil import BERLIN, to_berlin
from portal.transaction import transaction

READER_ROLES = ("treasury",)
OUTSTANDING_LIMIT = 500
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
BANK = "bank"  # the provider of a bank transfer: the city's own account

CSV_COLUMNS = (
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
)


def may_read(actor: Actor) -> bool:
    if actor.kind == "client":
        return "payments" in actor.scopes
    return any(actor.has_role(role) for role in READER_ROLES)


def _require_reader(actor: Actor) -> None:
    from werkzeug.exceptions import Forbidden

    if not may_read(actor):
        raise Forbidden()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight at the start of `day` and of the day after."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PaymentError("date", _("Wählen Sie einen Tag zwischen 2000 und 2999."), "date_out_of_range")
    start = datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class Booking:
    """One row of the report: a payment received (positive) or a refund paid out (negative)."""

    kind: str  # payment, refund, outstanding
    public_id: str
    kassenzeichen: str
    budget_line: str
    amount_cents: int
    fees_cents: int | None  # the provider's fee, when known (not yet recorded by any provider adapter)
    provider: str
    provider_reference: str | None
    method: str | None
    created_at: datetime
    booked_at: datetime | None  # paid at, refunded at; None for outstanding orders
    case_reference: str
    service: str
    purpose: str
    refund_id: int | None = None


@dataclass
class DayReport:
    day: date
    paid: list[Booking] = field(default_factory=list)
    refunded: list[Booking] = field(default_factory=list)
    outstanding: list[Booking] = field(default_factory=list)
    outstanding_count: int = 0
    outstanding_cents: int = 0

    @property
    def paid_cents(self) -> int:
        return sum(b.amount_cents for b in self.paid)

    @property
    def refunded_cents(self) -> int:
        return -sum(b.amount_cents for b in self.refunded)  # a positive sum of money paid back

    @property
    def net_cents(self) -> int:
        return self.paid_cents - self.refunded_cents

    @property
    def outstanding_truncated(self) -> bool:
        return self.outstanding_count > len(self.outstanding)

    @property
    def bookings(self) -> list[Booking]:
        return sorted([*self.paid, *self.refunded], key=lambda b: (b.booked_at or b.created_at, b.kind))


def _references(payments: list[Payment]) -> dict[int, tuple[str, str | None]]:
    """(provider, provider reference) per payment: the bank's reference for a transfer, else the succeeded
    attempt's reference at the provider (Stripe's Checkout Session id, the sandbox's id)."""
    ids = [p.id for p in payments]
    found: dict[int, tuple[str, str | None]] = {}
    for payment_id, line in statements.paying_lines(ids).items():
        found[payment_id] = (BANK, line.bank_reference or None)
    if ids:
        attempts = db.session.scalars(
            sa.select(PaymentAttempt)
            .where(PaymentAttempt.payment_id.in_(ids), PaymentAttempt.status == AttemptStatus.SUCCEEDED.value)
            .order_by(PaymentAttempt.id)
        )
        for attempt in attempts:
            found.setdefault(attempt.payment_id, (attempt.provider, attempt.provider_reference))
    return found


def _booking(kind: str, payment: Payment, references: dict[int, tuple[str, str | None]], **overrides: Any) -> Booking:
    provider, reference = references.get(payment.id, (payment.provider, None))
    if payment.method == "bank_transfer":
        provider = BANK
    values: dict[str, Any] = {
        "kind": kind,
        "public_id": payment.public_id,
        "kassenzeichen": payment.kassenzeichen,
        "budget_line": payment.budget_line,
        "amount_cents": payment.amount_cents,
        "fees_cents": None,
        "provider": provider,
        "provider_reference": reference,
        "method": payment.method,
        "created_at": payment.created_at,
        "booked_at": payment.succeeded_at,
        "case_reference": payment.case_reference,
        "service": payment.service,
        "purpose": payment.purpose,
    }
    values.update(overrides)
    return Booking(**values)


def day_report(actor: Actor, day: date) -> DayReport:
    _require_reader(actor)
    start, end = day_bounds(day)
    report = DayReport(day)
    paid = list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.succeeded_at >= start, Payment.succeeded_at < end)
            .order_by(Payment.succeeded_at, Payment.id)
        )
    )
    refunds = list(
        db.session.scalars(
            sa.select(Refund)
            .where(
                Refund.status == RefundStatus.SUCCEEDED.value,
                Refund.finished_at >= start,
                Refund.finished_at < end,
            )
            .order_by(Refund.finished_at, Refund.id)
        )
    )
    references = _references(paid + [r.payment for r in refunds])
    report.paid = [_booking("payment", p, references) for p in paid]
    report.refunded = [
        _booking(
            "refund",
            r.payment,
            references,
            amount_cents=-r.amount_cents,
            provider=BANK if r.payment.method == "bank_transfer" else r.payment.provider,
            # The treasury's own transfer back: the bank's reference, as the statement will show it.
            provider_reference=r.payout_reference if r.is_manual_payout else r.provider_reference,
            booked_at=r.finished_at,
            refund_id=r.id,
        )
        for r in refunds
    ]
    # Outstanding at the day's end: created by then, not paid by then, and not withdrawn by then.
    withdrawn = sa.and_(Payment.status == PaymentStatus.WITHDRAWN.value, Payment.finished_at < end)
    open_ = sa.and_(
        Payment.created_at < end,
        sa.or_(Payment.succeeded_at.is_(None), Payment.succeeded_at >= end),
        sa.not_(withdrawn),
    )
    count, total = db.session.execute(
        sa.select(sa.func.count(Payment.id), sa.func.coalesce(sa.func.sum(Payment.amount_cents), 0)).where(open_)
    ).one()
    report.outstanding_count, report.outstanding_cents = int(count), int(total)
    outstanding = db.session.scalars(
        sa.select(Payment).where(open_).order_by(Payment.created_at, Payment.id).limit(OUTSTANDING_LIMIT)
    )
    report.outstanding = [_booking("outstanding", p, {}, booked_at=None, provider=p.provider) for p in outstanding]
    return report


# --- export -----------------------------------------------------------------------------------------------

KIND_LABELS = {"payment": "Zahlung", "refund": "Erstattung", "outstanding": "offen"}


def _money(cents: int) -> str:
    """German decimal comma without thousands separators: what Excel (de) and cash systems read as a number."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole},{rest:02d}"


def _local(moment: datetime | None) -> str:
    return to_berlin(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def csv_rows(report: DayReport) -> list[list[str]]:
    rows = [list(CSV_COLUMNS)]
    for b in report.bookings:
        rows.append(
            [
                KIND_LABELS[b.kind],
                b.kassenzeichen,
                _cell(b.budget_line),
                _money(b.amount_cents),
                _money(b.fees_cents) if b.fees_cents is not None else "",
                _cell(b.provider),
                _cell(b.provider_reference),
                _cell(b.method),
                _local(b.created_at),
                _local(b.booked_at),
                _cell(b.case_reference),
                _cell(b.purpose),
            ]
        )
    return rows


def export_csv(actor: Actor, day: date) -> bytes:
    """The day's payments and refunds as CSV: `;`, UTF-8 with BOM (so Excel reads the umlauts), CRLF.

    Refunds carry a negative gross amount. Audited as an export.
    """
    report = day_report(actor, day)
    rows = csv_rows(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    with transaction():
        audit.record(
            "payment.reconciliation_exported",
            actor,
            day=day.isoformat(),
            format="csv",
            rows=len(rows) - 1,
            paid_cents=report.paid_cents,
            refunded_cents=report.refunded_cents,
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def record_api_export(actor: Actor, report: DayReport) -> None:
    """The API hands out the same data as the CSV, so reading it is an export too."""
    with transaction():
        audit.record(
            "payment.reconciliation_exported",
            actor,
            day=report.day.isoformat(),
            format="json",
            rows=len(report.paid) + len(report.refunded),
            paid_cents=report.paid_cents,
            refunded_cents=report.refunded_cents,
        )
