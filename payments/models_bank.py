"""Bank statements the treasury imports, and their lines, matched to payment orders by Kassenzeichen.

Invariants the database keeps:
- a booking is stored once, however often its statement (or an overlapping export) is imported: each line has a
  `natural_key` (see payments.services.statements.natural_key) that is unique;
- a matched or assigned line names its payment, an unmatched one does not;
- one payment is paid by at most one line (a partial unique index), so a second transfer for the same
  Kassenzeichen can only ever be an unmatched "already paid" line.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class LineStatus(enum.StrEnum):
    MATCHED = "matched"  # by the import: a valid Kassenzeichen of an unpaid order, and the exact amount
    ASSIGNED = "assigned"  # by a treasury person, to an unpaid order
    UNMATCHED = "unmatched"  # waits for the treasury; `reason` says why
    RETURNED = "returned"  # "not ours / to be returned": the treasury sends the money back outside the portal
    IGNORED = "ignored"  # a debit (money leaving the account): nothing to match


class UnmatchedReason(enum.StrEnum):
    NO_KASSENZEICHEN = "no_kassenzeichen"
    INVALID_KASSENZEICHEN = "invalid_kassenzeichen"  # 13 digits whose check digits do not fit: a typo
    UNKNOWN_KASSENZEICHEN = "unknown_kassenzeichen"
    SEVERAL_KASSENZEICHEN = "several_kassenzeichen"
    AMOUNT_DIFFERS = "amount_differs"
    ALREADY_PAID = "already_paid"  # a second payment (duplicate or overpayment)
    CURRENCY = "currency"


class Direction(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


PAYING = (LineStatus.MATCHED.value, LineStatus.ASSIGNED.value)


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} in ({', '.join(repr(v.value) for v in values)})"


class BankStatement(Model):
    """One import of a statement file. The file itself is not kept, only its hash and its parsed lines."""

    __tablename__ = "payment_bank_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(sa.String(10))  # csv, camt053
    file_name: Mapped[str] = mapped_column(sa.String(200))
    file_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    account_iban: Mapped[str] = mapped_column(sa.String(34))
    statement_reference: Mapped[str | None] = mapped_column(sa.String(140))  # CAMT Stmt/Id
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    line_count: Mapped[int] = mapped_column(sa.Integer, default=0)  # lines in the file
    new_count: Mapped[int] = mapped_column(sa.Integer, default=0)  # lines not imported before
    matched_count: Mapped[int] = mapped_column(sa.Integer, default=0)

    lines: Mapped[list[BankStatementLine]] = relationship(
        back_populates="statement", order_by="BankStatementLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("format in ('csv', 'camt053')", name="format"),)


class BankStatementLine(Model):
    """One booking on the city's account."""

    __tablename__ = "payment_bank_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_bank_statement.id"), index=True)
    natural_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    account_iban: Mapped[str] = mapped_column(sa.String(34))
    booking_date: Mapped[date] = mapped_column(sa.Date, index=True)
    value_date: Mapped[date | None] = mapped_column(sa.Date)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    direction: Mapped[str] = mapped_column(sa.String(6))
    currency: Mapped[str] = mapped_column(sa.String(3))
    remitter_name: Mapped[str] = mapped_column(sa.String(140), default="")
    remitter_iban: Mapped[str | None] = mapped_column(sa.String(34))
    remittance_text: Mapped[str] = mapped_column(sa.String(500), default="")
    bank_reference: Mapped[str] = mapped_column(sa.String(140), default="")
    status: Mapped[str] = mapped_column(sa.String(12), index=True)
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    kassenzeichen: Mapped[str | None] = mapped_column(sa.String(20))  # found in the text, or assigned
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    statement: Mapped[BankStatement] = relationship(back_populates="lines")

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint(_in("direction", Direction), name="direction"),
        sa.CheckConstraint(_in("status", LineStatus), name="status"),
        sa.CheckConstraint(
            "(status IN ('matched', 'assigned')) = (payment_id IS NOT NULL)", name="payment_when_paying"
        ),
        sa.Index(
            "uq_payment_bank_line_paying",
            "payment_id",
            unique=True,
            postgresql_where=sa.text("status IN ('matched', 'assigned')"),
            sqlite_where=sa.text("status IN ('matched', 'assigned')"),
        ),
    )
