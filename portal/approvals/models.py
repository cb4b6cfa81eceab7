"""Approval requests: something one person asks for and a second person with the right role decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow

STATES = ("requested", "approved", "rejected", "withdrawn", "expired")
OPEN = "requested"


class ApprovalRequest(Model):
    __tablename__ = "approval_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)  # FRG-2026-000001
    kind: Mapped[str] = mapped_column(sa.String(64))  # e.g. payments.refund
    subject_type: Mapped[str] = mapped_column(sa.String(64))
    subject_id: Mapped[str] = mapped_column(sa.String(64))
    # What the callback needs to carry the request out (e.g. {"amount_cents": 1500}), fixed when requested.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    summary: Mapped[str] = mapped_column(sa.String(500))  # what the decider reads
    reason: Mapped[str] = mapped_column(sa.Text)  # why it was requested
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"), index=True)
    # The citizen the subject concerns; their Mein Konto → Protokoll shows the events if the kind says so.
    subject_user_id: Mapped[int | None] = mapped_column(sa.Integer)
    state: Mapped[str] = mapped_column(sa.String(16), default=OPEN, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # also when withdrawn or expired
    decision_note: Mapped[str | None] = mapped_column(sa.Text)

    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    department = relationship("Department")

    __table_args__ = (
        sa.CheckConstraint("state in ('requested', 'approved', 'rejected', 'withdrawn', 'expired')", name="state"),
        # The four-eyes rule in the schema itself: nobody decides their own request.
        sa.CheckConstraint("decided_by_id <> requested_by_id", name="second_person"),
        sa.CheckConstraint(
            "(state = 'requested' AND decided_by_id IS NULL AND decided_at IS NULL)"
            " OR (state IN ('approved', 'rejected') AND decided_by_id IS NOT NULL AND decided_at IS NOT NULL)"
            " OR (state IN ('withdrawn', 'expired') AND decided_by_id IS NULL AND decided_at IS NOT NULL)",
            name="decision",
        ),
        # At most one open request per thing: a second refund request for the same payment waits its turn.
        sa.Index(
            "uq_approval_request_open_subject",
            "kind",
            "subject_type",
            "subject_id",
            unique=True,
            postgresql_where=sa.text("state = 'requested'"),
            sqlite_where=sa.text("state = 'requested'"),
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.state == OPEN
