"""The agreements' hourly limits, counted in constant time (see dataaccess.services.rate_limit)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model


class RateCounter(Model):
    """One official's (or machine client's) granted accesses under one agreement, per minute of the last hour.

    `per_minute` maps a minute (minutes since 1970-01-01 UTC, as text: JSON keys are text) to the number of
    accesses granted in it; at most 61 entries, older ones are dropped when the row is written. The row is also
    the lock that makes the limit exact: an access holds it from counting until its transaction ends.
    """

    __tablename__ = "dataaccess_rate_counter"

    agreement_reference: Mapped[str] = mapped_column(sa.String(20), primary_key=True)  # all versions count
    reader: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # "user:12" or "token:3"
    per_minute: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
