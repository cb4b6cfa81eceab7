"""Payment figures per month for the city's e-government controlling: payments received online (card, SEPA
debit, PayPal, … through a provider) and by bank transfer. Anonymous counts; the caller checks who may see them.
One statement."""

from __future__ import annotations

import sqlalchemy as sa

from payments.models import Payment, PaymentStatus
from portal.extensions import db
from portal.reporting import Month, counts_by_month, month_of, within

BANK_TRANSFER = "bank_transfer"
# Money that arrived, whether or not some of it went back later.
RECEIVED = (PaymentStatus.SUCCEEDED.value, PaymentStatus.PARTIALLY_REFUNDED.value, PaymentStatus.REFUNDED.value)


def monthly_figures(months: list[Month]) -> dict[str, dict[str, float]]:
    """{month: {"online": count, "bank_transfer": count}} by the month the money arrived."""
    bucket = month_of(Payment.succeeded_at, months)
    channel = sa.case((Payment.method == BANK_TRANSFER, BANK_TRANSFER), else_="online")
    rows = db.session.execute(
        sa.select(bucket, channel, sa.func.count())
        .where(Payment.status.in_(RECEIVED), within(Payment.succeeded_at, months))
        .group_by(bucket, channel)
    )
    return counts_by_month(rows)
