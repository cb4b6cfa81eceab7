"""Reference counters: one row per (prefix, year), the last number handed out."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model


class ReferenceCounter(Model):
    """The last value given out for a prefix in a year.

    Human references use their registered prefix ("SNU"); Kassenzeichen use "KZ" plus the three-digit area
    code ("KZ123"), which no human prefix can be (those are letters only), so the two never share a row.
    """

    __tablename__ = "reference_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    year: Mapped[int] = mapped_column(sa.Integer)
    last_value: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (
        # The upsert in portal.references.services conflicts on this key; it is also what makes the
        # counter safe under concurrency (one row per key, row-locked by the update).
        sa.UniqueConstraint("prefix", "year", name="uq_reference_counter_prefix_year"),
        sa.CheckConstraint("last_value >= 1", name="last_value_positive"),
    )
