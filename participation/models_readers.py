"""Council read access: a named account may read one consultation's figures before it closes.

A consultation's manager grants it to an existing account (a council member, say) and may revoke it; a revoked
grant keeps its row for the record, and granting again writes a new one. The database keeps at most one grant in
force per consultation and account (a partial UNIQUE index on the rows not revoked), so two managers clicking at
once cannot grant the same person twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class ConsultationReader(Model):
    """One account's read access to one consultation's figures, from `granted_at` until `revoked_at`."""

    __tablename__ = "participation_consultation_reader"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("revoked_at IS NULL OR revoked_at >= granted_at", name="period"),
        sa.Index("ix_participation_consultation_reader_consultation", "consultation_id", "granted_at"),
        # One grant in force per consultation and account: a second grant (or a double click) hits this wall.
        sa.Index(
            "uq_participation_consultation_reader_active",
            "consultation_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None
