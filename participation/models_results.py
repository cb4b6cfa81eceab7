"""Closing the loop: the city's official answer to a proposal and, later, how far its implementation has got.

Every answer and every progress note is a row of its own (`ProposalUpdate`), never edited, so the proposal page
can show its whole history; the proposal keeps the latest of each (`answer_status`, `implementation_status`) for
lists and filters, set in the transaction that writes the update. The database keeps:
- an update's status fits its kind (an answer is accepted / under review / rejected, a progress note is
  planned / in progress / done / stopped), and it has a text;
- a progress note only for a proposal whose latest answer accepted it (checked by the service, since it
  concerns another row).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow

UPDATE_TEXT_MAX = 5000


class UpdateKind(enum.StrEnum):
    ANSWER = "answer"  # the official answer (Stellungnahme der Verwaltung)
    IMPLEMENTATION = "implementation"  # a progress note on an accepted proposal (Umsetzungsstand)


class AnswerStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # wird umgesetzt
    UNDER_REVIEW = "under_review"  # wird geprüft
    REJECTED = "rejected"  # wird nicht umgesetzt


class ImplementationStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    STOPPED = "stopped"


def _statuses(kind: UpdateKind, values: type[enum.StrEnum]) -> str:
    listed = ", ".join(f"'{value.value}'" for value in values)
    return f"(kind = '{kind.value}' AND status IN ({listed}))"


class ProposalUpdate(Model):
    """One official answer or progress note on a proposal, by a member of staff; part of its public history."""

    __tablename__ = "participation_proposal_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_proposal.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.Text)  # plain text, escaped wherever it is shown
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            " OR ".join(
                (_statuses(UpdateKind.ANSWER, AnswerStatus), _statuses(UpdateKind.IMPLEMENTATION, ImplementationStatus))
            ),
            name="status",
        ),
        sa.CheckConstraint(f"length(text) > 0 AND length(text) <= {UPDATE_TEXT_MAX}", name="text"),
        sa.Index("ix_participation_proposal_update_history", "proposal_id", "created_at", "id"),
    )
