"""Moderation of contributions: flags, the cases moderators decide, user blocks and the author's appeal.

A contribution is a proposal or a comment, named by (`contribution_kind`, `contribution_id`) since a case may
concern either. The database keeps:
- one person flags one contribution once (UNIQUE, NULL reporters aside), and
- at most one open case per contribution (a partial UNIQUE index on the open ones): a flag joins the open case,
  a pending contribution opens one when it is written, a decision closes it;
- one appeal per contribution (UNIQUE), decided at most once;
- a decided case names its decision, who took it and when; a block ends after it starts.
The hidden text itself stays in the contribution's row, for the record.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from participation.models import _in
from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow

REASON_TEXT_MAX = 1000
APPEAL_TEXT_MAX = 2000


class ContributionKind(enum.StrEnum):
    PROPOSAL = "proposal"
    COMMENT = "comment"


class CaseCause(enum.StrEnum):
    FLAG = "flag"  # someone flagged a published contribution
    PENDING = "pending"  # a pre-moderated contribution waits to be published
    STAFF = "staff"  # a moderator acted on a contribution without a case in the queue
    APPEAL = "appeal"  # the author's appeal was granted: the contribution is shown again


class CaseState(enum.StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class Decision(enum.StrEnum):
    HIDE = "hide"  # hidden (or, when pending, not published), with a reason shown to the author
    RESTORE = "restore"  # a hidden contribution is shown again
    PUBLISH = "publish"  # a pending contribution is published
    DISMISS = "dismiss"  # the flags did not hold; the contribution stays as it is


class FlagState(enum.StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class AppealState(enum.StrEnum):
    OPEN = "open"
    GRANTED = "granted"  # the contribution is shown again
    REJECTED = "rejected"  # it stays hidden


class ModerationCase(Model):
    """One thing to decide about one contribution (flags, or its pre-moderation), and the decision taken."""

    __tablename__ = "participation_moderation_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    contribution_kind: Mapped[str] = mapped_column(sa.String(16))
    contribution_id: Mapped[int] = mapped_column(sa.Integer)
    cause: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16), default=CaseState.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())  # created_at + PARTICIPATION_MODERATION_HOURS
    decision: Mapped[str | None] = mapped_column(sa.String(16))
    reason_code: Mapped[str | None] = mapped_column(sa.String(32))  # shown to the author (hide)
    reason_text: Mapped[str | None] = mapped_column(sa.Text)  # shown to the author (hide)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint(_in("contribution_kind", ContributionKind), name="kind"),
        sa.CheckConstraint(_in("cause", CaseCause), name="cause"),
        sa.CheckConstraint(_in("state", CaseState), name="state"),
        sa.CheckConstraint(_in("decision", Decision, nullable=True), name="decision"),
        sa.CheckConstraint(
            "(state = 'open' AND decision IS NULL AND decided_at IS NULL)"
            " OR (state = 'decided' AND decision IS NOT NULL AND decided_at IS NOT NULL)",
            name="decided",
        ),
        # The queue: open cases, oldest first.
        sa.Index("ix_participation_moderation_case_queue", "state", "created_at", "id"),
        sa.Index("ix_participation_moderation_case_contribution", "contribution_kind", "contribution_id", "id"),
        sa.Index("ix_participation_moderation_case_consultation", "consultation_id", "state"),
        # One open case per contribution: a second flag joins it, a double click on "hide" finds it decided.
        sa.Index(
            "uq_participation_moderation_case_open",
            "contribution_kind",
            "contribution_id",
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        ),
    )


class Flag(Model):
    """Someone's report that a contribution breaks the rules, with a reason; it joins the open case."""

    __tablename__ = "participation_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_moderation_case.id"), index=True)
    contribution_kind: Mapped[str] = mapped_column(sa.String(16))
    contribution_id: Mapped[int] = mapped_column(sa.Integer)
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))  # None: detached later
    reason_code: Mapped[str] = mapped_column(sa.String(32))
    reason_text: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[str] = mapped_column(sa.String(16), default=FlagState.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(_in("contribution_kind", ContributionKind), name="kind"),
        sa.CheckConstraint(_in("state", FlagState), name="state"),
        sa.CheckConstraint(f"length(reason_text) <= {REASON_TEXT_MAX}", name="reason_length"),
        sa.UniqueConstraint("contribution_kind", "contribution_id", "reporter_id", name="uq_participation_flag_once"),
    )


class UserBlock(Model):
    """A participant may not take part until `until` (unless lifted earlier); they may still appeal."""

    __tablename__ = "participation_user_block"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    __table_args__ = (
        sa.CheckConstraint("until > created_at", name="period"),
        sa.Index("ix_participation_user_block_user", "user_id", "until"),
    )


class Appeal(Model):
    """The author's one appeal against hiding their contribution, and how it was decided."""

    __tablename__ = "participation_appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_moderation_case.id"))  # the hiding
    contribution_kind: Mapped[str] = mapped_column(sa.String(16))
    contribution_id: Mapped[int] = mapped_column(sa.Integer)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))  # None: detached later
    text: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(16), default=AppealState.OPEN.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.Text)  # shown to the author

    __table_args__ = (
        sa.CheckConstraint(_in("contribution_kind", ContributionKind), name="kind"),
        sa.CheckConstraint(_in("state", AppealState), name="state"),
        sa.CheckConstraint(f"length(text) <= {APPEAL_TEXT_MAX}", name="text_length"),
        sa.CheckConstraint("(state = 'open') = (decided_at IS NULL)", name="decided"),
        sa.UniqueConstraint("contribution_kind", "contribution_id", name="uq_participation_appeal_once"),
    )
