"""Participation: consultations and their phases, pseudonyms, proposals, supports, threaded comments.

Invariants the database keeps, so that no code path and no race can break them:
- a consultation's slug, a proposal's reference and a person's pseudonym (case-insensitively, via `name_key`)
  are unique; one pseudonym per account;
- one support per person and proposal (UNIQUE): a double click inserts the second row into a wall;
- a phase ends after it starts; a comment is at most two replies deep (three levels), and only a top-level
  comment has neither parent nor root;
- counters never go below zero, and a published consultation has its publication time (closed: its closing).

Counters (`proposal_count`, `comment_count`, `support_count`, `reply_count`) count published contributions and
are changed with `SET n = n + 1` in the transaction that writes the contribution, so a page never counts rows.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow

TITLE_MAX = 200
PROPOSAL_BODY_MAX = 5000
COMMENT_BODY_MAX = 4000
IMAGE_ALT_MAX = 250  # a proposal image's short description, for people who do not see it
MAX_DEPTH = 2  # 0: top level, 1: a reply, 2: a reply to a reply


class ConsultationState(enum.StrEnum):
    DRAFT = "draft"  # written by the department, invisible to the public
    PUBLISHED = "published"  # public; its phases say what is open when
    CLOSED = "closed"  # ended: nothing can be added any more; results may follow
    ARCHIVED = "archived"  # kept for the record, no longer in the lists


class Audience(enum.StrEnum):
    SIGNED_IN = "signed_in"  # anyone with an account (the default)
    VERIFIED = "verified"  # residents whose sign-in carried a substantial or high assurance level
    GUESTS = "guests"  # as signed_in, and guests may comment without an account (always pre-moderated)


class PhaseKind(enum.StrEnum):
    INFORMATION = "information"
    PROPOSALS = "proposals"
    COMMENTS = "comments"
    DRAFT = "draft"  # comments on a draft text, paragraph by paragraph
    SURVEY = "survey"
    VOTING = "voting"
    RESULTS = "results"


class ContributionState(enum.StrEnum):
    PUBLISHED = "published"
    PENDING = "pending"  # waits for a moderator (pre-moderated consultation, or a guest's comment)
    HIDDEN = "hidden"  # hidden by a moderator; the text stays for the record


class Stance(enum.StrEnum):
    PRO = "pro"
    NEUTRAL = "neutral"
    CONTRA = "contra"


def _in(column: str, values: type[enum.StrEnum], *, nullable: bool = False) -> str:
    check = f"{column} in ({', '.join(repr(v.value) for v in values)})"
    return f"{column} is null or {check}" if nullable else check


class Consultation(Model):
    """A Beteiligungsverfahren of a department: its texts, who may take part, its counters."""

    __tablename__ = "participation_consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")  # sanitised HTML (participation.text.clean_html)
    state: Mapped[str] = mapped_column(sa.String(16), default=ConsultationState.DRAFT.value, index=True)
    audience: Mapped[str] = mapped_column(sa.String(16), default=Audience.SIGNED_IN.value)
    premoderation: Mapped[bool] = mapped_column(default=False)
    district: Mapped[str | None] = mapped_column(sa.String(100))
    topic: Mapped[str | None] = mapped_column(sa.String(100))
    categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # what a proposal may be filed under
    contact_name: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    area_geojson: Mapped[str | None] = mapped_column(sa.Text)
    support_threshold: Mapped[int | None] = mapped_column(sa.Integer)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Data minimisation: when its contributions were detached from the accounts that wrote them.
    authors_detached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proposal_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    comment_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    support_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Replaced (participation.cache_token) in every transaction that changes what the consultation's pages or
    # its comments API show: rendered pages are kept under it, so a change shows at once.
    cache_token: Mapped[str] = mapped_column(sa.String(16), default=lambda: secrets.token_hex(8), server_default="0")

    department = relationship("Department")
    phases: Mapped[list[Phase]] = relationship(
        back_populates="consultation", order_by="Phase.position, Phase.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(_in("state", ConsultationState), name="state"),
        sa.CheckConstraint(_in("audience", Audience), name="audience"),
        sa.CheckConstraint("support_threshold is null or support_threshold > 0", name="threshold"),
        sa.CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name="published"),
        sa.CheckConstraint("state NOT IN ('closed', 'archived') OR closed_at IS NOT NULL", name="closed"),
        sa.CheckConstraint("proposal_count >= 0 AND comment_count >= 0 AND support_count >= 0", name="counters"),
    )


class Phase(Model):
    """One step of a consultation's timeline; in force on [starts_at, ends_at), opening `actions`."""

    __tablename__ = "participation_phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    kind: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The actions open in this phase; by default those of its kind (participation.rules.PHASE_ACTIONS).
    actions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    consultation: Mapped[Consultation] = relationship(back_populates="phases")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", PhaseKind), name="kind"),
        sa.CheckConstraint("ends_at > starts_at", name="period"),
    )


class Pseudonym(Model):
    """The name a participant appears under everywhere, instead of their account's name or address."""

    __tablename__ = "participation_pseudonym"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    name_key: Mapped[str] = mapped_column(sa.String(40), unique=True)  # casefolded: "Anna" and "anna" are one
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Proposal(Model):
    """A participant's proposal (Vorschlag) in a consultation, with its counters and reference VOR-…"""

    __tablename__ = "participation_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)  # None: detached
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    body: Mapped[str] = mapped_column(sa.Text)  # plain text, escaped wherever it is shown
    category: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    image_key: Mapped[str | None] = mapped_column(sa.String(64), sa.ForeignKey("stored_file.key"))
    image_alt: Mapped[str | None] = mapped_column(sa.String(IMAGE_ALT_MAX))  # set with image_key
    state: Mapped[str] = mapped_column(sa.String(16), default=ContributionState.PUBLISHED.value)
    support_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    comment_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    answer_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # support threshold reached
    # The latest official answer and progress note (participation.models_results), kept with the update.
    answer_status: Mapped[str | None] = mapped_column(sa.String(16))
    implementation_status: Mapped[str | None] = mapped_column(sa.String(16))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consultation: Mapped[Consultation] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("state", ContributionState), name="state"),
        sa.CheckConstraint(f"length(body) <= {PROPOSAL_BODY_MAX}", name="body_length"),
        sa.CheckConstraint("support_count >= 0 AND comment_count >= 0", name="counters"),
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="point"),
        sa.CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180)", name="range"),
        # The two orders of the proposal list, each walked by a cursor.
        sa.Index("ix_participation_proposal_newest", "consultation_id", "created_at", "id"),
        sa.Index("ix_participation_proposal_supported", "consultation_id", "support_count", "id"),
        # The public image route finds the proposal by its image; an image belongs to one proposal only.
        sa.Index("ix_participation_proposal_image_key", "image_key", unique=True),
    )


class Support(Model):
    """One person's support of one proposal; withdrawing deletes the row."""

    __tablename__ = "participation_support"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_proposal.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("proposal_id", "user_id", name="uq_participation_support_once"),)


class Comment(Model):
    """A comment on a consultation, a proposal or a paragraph of its draft text; replies up to depth 2."""

    __tablename__ = "participation_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participation_proposal.id"))
    # A paragraph of the consultation's draft text (participation.models_surveys.DraftParagraph); replies keep it.
    paragraph_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participation_draft_paragraph.id"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participation_comment.id"))
    root_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participation_comment.id"))  # the top-level one
    depth: Mapped[int] = mapped_column(sa.Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    guest_name: Mapped[str | None] = mapped_column(sa.String(60))
    body: Mapped[str] = mapped_column(sa.Text)  # plain text, escaped wherever it is shown
    stance: Mapped[str | None] = mapped_column(sa.String(8))
    state: Mapped[str] = mapped_column(sa.String(16), default=ContributionState.PUBLISHED.value)
    reply_count: Mapped[int] = mapped_column(sa.Integer, default=0)  # published direct replies
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint(_in("state", ContributionState), name="state"),
        sa.CheckConstraint(_in("stance", Stance, nullable=True), name="stance"),
        sa.CheckConstraint(f"depth >= 0 AND depth <= {MAX_DEPTH}", name="depth"),
        sa.CheckConstraint(
            "(depth = 0 AND parent_id IS NULL AND root_id IS NULL)"
            " OR (depth > 0 AND parent_id IS NOT NULL AND root_id IS NOT NULL)",
            name="thread",
        ),
        sa.CheckConstraint(f"length(body) <= {COMMENT_BODY_MAX}", name="body_length"),
        sa.CheckConstraint("reply_count >= 0", name="counters"),
        # A page of a thread: top-level comments (parent_id IS NULL) or one comment's replies, in id order.
        sa.Index("ix_participation_comment_thread", "proposal_id", "parent_id", "id"),
        sa.Index("ix_participation_comment_consultation", "consultation_id", "proposal_id", "parent_id", "id"),
        sa.Index("ix_participation_comment_parent", "parent_id", "id"),
        sa.Index("ix_participation_comment_paragraph", "paragraph_id", "parent_id", "id"),
    )

    @property
    def is_top_level(self) -> bool:
        return self.parent_id is None
