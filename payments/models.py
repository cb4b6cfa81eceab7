"""Payments: the fee catalogue, payment orders with their Kassenzeichen, attempts, refunds, provider events.

Invariants the database keeps, so that no code path and no race can break them:
- amounts are integer cents > 0; a payment's amount never changes after creation (no code updates it, and
  the audit trail records it at creation);
- the refunds reserved for a payment never exceed its amount (`refund_reserved_cents <= amount_cents`, raised by
  a conditional UPDATE: two treasury staff refunding at once cannot both pass);
- a provider's event is applied once (`(provider, event_id)` is unique);
- one idempotency key per attempt, one provider reference per attempt.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class PaymentStatus(enum.StrEnum):
    CREATED = "created"  # the order exists; nobody has started paying
    STARTED = "started"  # an attempt is under way at the provider
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    # The service that asked for the money withdrew the order (a cancelled booking): nothing is owed any more.
    WITHDRAWN = "withdrawn"


class AttemptStatus(enum.StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RefundStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # the second treasury person has not decided yet
    REJECTED = "rejected"
    PENDING = "pending"  # approved and sent to the provider, not yet confirmed
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} in ({', '.join(repr(v.value) for v in values)})"


class Fee(Model):
    """A fee the city charges (Gebührentatbestand), with its budget line; amounts live in versions."""

    __tablename__ = "payment_fee"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    budget_line: Mapped[str] = mapped_column(sa.String(60))  # Haushaltsstelle / Buchungsstelle
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[FeeVersion]] = relationship(
        back_populates="fee", order_by="FeeVersion.valid_from", cascade="all, delete-orphan"
    )


class FeeVersion(Model):
    """A tariff valid from a date: a fixed amount, or a rate per unit (e.g. per m² and day) with a minimum.

    Versions are never edited: a new tariff is a new version, so a payment created under an old tariff keeps
    pointing at the amounts it was computed from.
    """

    __tablename__ = "payment_fee_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    fee_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_fee.id"))
    valid_from: Mapped[date] = mapped_column(sa.Date)
    amount_cents: Mapped[int | None] = mapped_column(sa.Integer)
    rate_cents: Mapped[int | None] = mapped_column(sa.Integer)  # per unit
    unit: Mapped[str | None] = mapped_column(sa.String(40))  # e.g. "m² und Tag"
    minimum_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    fee: Mapped[Fee] = relationship(back_populates="versions")

    __table_args__ = (
        sa.UniqueConstraint("fee_id", "valid_from", name="uq_payment_fee_version_fee_day"),
        sa.CheckConstraint(
            "(amount_cents IS NOT NULL AND amount_cents > 0 AND rate_cents IS NULL)"
            " OR (rate_cents IS NOT NULL AND rate_cents > 0 AND amount_cents IS NULL AND unit IS NOT NULL)",
            name="amount_or_rate",
        ),
        sa.CheckConstraint("minimum_cents >= 0", name="minimum"),
    )


class Payment(Model):
    """A payment order: what is owed, for which case, by whom, under which Kassenzeichen."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)  # in URLs and the API; unguessable
    kassenzeichen: Mapped[str] = mapped_column(sa.String(20), unique=True)
    amount_cents: Mapped[int] = mapped_column(sa.Integer)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    purpose: Mapped[str] = mapped_column(sa.String(140))  # fits a SEPA remittance line
    service: Mapped[str] = mapped_column(sa.String(40))  # the blueprint the case belongs to
    case_reference: Mapped[str] = mapped_column(sa.String(60))
    fee_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment_fee_version.id"))
    fee_code: Mapped[str | None] = mapped_column(sa.String(40))
    budget_line: Mapped[str] = mapped_column(sa.String(60))
    payer_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    payer_organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    payer_email: Mapped[str | None] = mapped_column(sa.String(254))
    status: Mapped[str] = mapped_column(sa.String(24), default=PaymentStatus.CREATED.value, index=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    return_url: Mapped[str | None] = mapped_column(sa.String(500))
    on_success: Mapped[str | None] = mapped_column(sa.String(80))  # a registered callback name
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    method: Mapped[str | None] = mapped_column(sa.String(20))  # card, sepa_debit, paypal, bank_transfer, ...
    refund_reserved_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    refunded_cents: Mapped[int] = mapped_column(sa.Integer, default=0)

    attempts: Mapped[list[PaymentAttempt]] = relationship(
        back_populates="payment", order_by="PaymentAttempt.id", cascade="all, delete-orphan"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="payment", order_by="Refund.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("currency = 'EUR'", name="currency"),
        sa.CheckConstraint(_in("status", PaymentStatus), name="status"),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= refund_reserved_cents AND refund_reserved_cents <= amount_cents",
            name="refunds_within_amount",
        ),
        sa.Index("ix_payment_case", "service", "case_reference"),
    )

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refund_reserved_cents


class PaymentAttempt(Model):
    """One try at paying: a Checkout Session at Stripe, a sandbox page, ... Its outcome moves the payment."""

    __tablename__ = "payment_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    provider_reference: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(sa.String(2000))
    status: Mapped[str] = mapped_column(sa.String(16), default=AttemptStatus.STARTED.value)
    method: Mapped[str | None] = mapped_column(sa.String(20))
    failure_code: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    payment: Mapped[Payment] = relationship(back_populates="attempts")

    __table_args__ = (sa.CheckConstraint(_in("status", AttemptStatus), name="status"),)


# A refund of a payment that came by bank transfer goes back by bank transfer, made by the treasury by hand: no
# provider can pay it out. Its `provider_reference` is "manual:<refund id>" from its approval on, and
# "manual:<refund id>:<bank reference>" once the treasury has confirmed the transfer (see payments.services.payouts).
MANUAL_PAYOUT_PREFIX = "manual:"


class Refund(Model):
    __tablename__ = "payment_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(20), default=RefundStatus.AWAITING_APPROVAL.value)
    requested_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    requested_by_client: Mapped[str | None] = mapped_column(sa.String(64))  # an API token, "token:<id>"
    approval_request_id: Mapped[int | None] = mapped_column(sa.Integer)
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    provider_reference: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    payment: Mapped[Payment] = relationship(back_populates="refunds")

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint(_in("status", RefundStatus), name="status"),
    )

    @property
    def is_manual_payout(self) -> bool:
        """Paid back by the treasury's own transfer, not by a provider."""
        return (self.provider_reference or "").startswith(MANUAL_PAYOUT_PREFIX)

    @property
    def payout_open(self) -> bool:
        """Approved, waiting for the treasury to make the transfer ("Rücküberweisung offen")."""
        return self.is_manual_payout and self.status == RefundStatus.PENDING.value

    @property
    def payout_reference(self) -> str | None:
        """The bank's reference of the treasury's transfer, once confirmed; None otherwise."""
        if not self.is_manual_payout:
            return None
        parts = (self.provider_reference or "").split(":", 2)
        return parts[2] if len(parts) == 3 and parts[2] else None


class ProviderEvent(Model):
    """An event a provider told us about (webhook, or found by the sweeper), recorded once."""

    __tablename__ = "payment_provider_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(100))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(40))  # applied, ignored_stale, ignored_unknown, ...
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("provider", "event_id", name="uq_payment_provider_event_once"),)
