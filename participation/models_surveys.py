"""Surveys and draft texts: a consultation's questions and each person's answers, and a draft (a statute, a plan)
split into paragraphs that participants comment one by one.

The database keeps:
- one answer set per person and consultation (UNIQUE (consultation_id, user_id)): a double click inserts the
  second response into a wall; `user_id` becomes NULL when contributions are detached from their accounts later
  (NULLs never collide);
- an answer is exactly one of: a chosen option (single or multiple choice, one row per ticked option, never the
  same option twice), a number on the scale, or a text;
- only a scale question has a scale, from a lower to a higher number, at most eleven steps (0 to 10);
- counters never go below zero.

A paragraph's comments are ordinary comments (participation.models.Comment) whose `paragraph_id` names it; its
`comment_count` counts the published ones, replies included, changed in the transaction that writes or
moderates a comment.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.models import _in
from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow

QUESTION_TEXT_MAX = 500
OPTION_LABEL_MAX = 200
SCALE_LABEL_MAX = 60
SCALE_STEPS_MAX = 11  # 0 … 10
TEXT_ANSWER_MAX = 2000
PARAGRAPH_NUMBER_MAX = 40
PARAGRAPH_HEADING_MAX = 200
PARAGRAPH_TEXT_MAX = 10_000


class QuestionKind(enum.StrEnum):
    SINGLE = "single"  # one option (radio buttons)
    MULTIPLE = "multiple"  # any number of options (checkboxes)
    TEXT = "text"  # free text
    SCALE = "scale"  # a number from scale_min to scale_max, the ends labelled


class SurveyQuestion(Model):
    """One question of a consultation's survey, in the order of `position`."""

    __tablename__ = "participation_survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    kind: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.String(QUESTION_TEXT_MAX))
    required: Mapped[bool] = mapped_column(default=False)
    scale_min: Mapped[int | None] = mapped_column(sa.Integer)
    scale_max: Mapped[int | None] = mapped_column(sa.Integer)
    min_label: Mapped[str | None] = mapped_column(sa.String(SCALE_LABEL_MAX))  # e.g. "gar nicht wichtig"
    max_label: Mapped[str | None] = mapped_column(sa.String(SCALE_LABEL_MAX))  # e.g. "sehr wichtig"

    options: Mapped[list[SurveyOption]] = relationship(
        order_by="SurveyOption.position, SurveyOption.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(_in("kind", QuestionKind), name="kind"),
        sa.CheckConstraint("(kind = 'scale') = (scale_min IS NOT NULL AND scale_max IS NOT NULL)", name="scale"),
        sa.CheckConstraint(
            f"scale_min IS NULL OR (scale_min >= 0 AND scale_max > scale_min"
            f" AND scale_max - scale_min < {SCALE_STEPS_MAX})",
            name="scale_range",
        ),
        sa.Index("ix_participation_survey_question_order", "consultation_id", "position"),
    )

    @property
    def steps(self) -> list[int]:
        """The numbers a scale question offers, lowest first (none for other kinds)."""
        if self.scale_min is None or self.scale_max is None:
            return []
        return list(range(self.scale_min, self.scale_max + 1))


class SurveyOption(Model):
    """One answer a single or multiple choice question offers."""

    __tablename__ = "participation_survey_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_survey_question.id"))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    label: Mapped[str] = mapped_column(sa.String(OPTION_LABEL_MAX))

    __table_args__ = (sa.Index("ix_participation_survey_option_order", "question_id", "position"),)


class SurveyResponse(Model):
    """One person's answer set in a consultation's survey (at most one each)."""

    __tablename__ = "participation_survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)  # None: detached
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("consultation_id", "user_id", name="uq_participation_survey_response_once"),)


class SurveyAnswer(Model):
    """The answer to one question within a response: a chosen option, a scale value or a text."""

    __tablename__ = "participation_survey_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_survey_response.id"))
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_survey_question.id"))
    option_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participation_survey_option.id"))
    value: Mapped[int | None] = mapped_column(sa.Integer)
    text: Mapped[str | None] = mapped_column(sa.Text)  # plain text, escaped wherever it is shown

    __table_args__ = (
        sa.CheckConstraint(
            "(option_id IS NOT NULL AND value IS NULL AND text IS NULL)"
            " OR (option_id IS NULL AND value IS NOT NULL AND text IS NULL)"
            " OR (option_id IS NULL AND value IS NULL AND text IS NOT NULL)",
            name="one_answer",
        ),
        sa.CheckConstraint(f"text IS NULL OR length(text) <= {TEXT_ANSWER_MAX}", name="text_length"),
        sa.UniqueConstraint("response_id", "question_id", "option_id", name="uq_participation_survey_answer_once"),
        # The results: answers grouped by question (and option or value); free texts in order.
        sa.Index("ix_participation_survey_answer_question", "question_id", "id"),
    )


class DraftParagraph(Model):
    """One paragraph of the draft text a consultation puts up for comment (number and heading optional)."""

    __tablename__ = "participation_draft_paragraph"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("participation_consultation.id"))
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    number: Mapped[str | None] = mapped_column(sa.String(PARAGRAPH_NUMBER_MAX))  # "§ 3", "Art. 2"
    heading: Mapped[str | None] = mapped_column(sa.String(PARAGRAPH_HEADING_MAX))
    text: Mapped[str] = mapped_column(sa.Text)  # plain text, escaped wherever it is shown
    comment_count: Mapped[int] = mapped_column(sa.Integer, default=0)  # published comments, replies included

    __table_args__ = (
        sa.CheckConstraint(f"length(text) <= {PARAGRAPH_TEXT_MAX}", name="text_length"),
        sa.CheckConstraint("comment_count >= 0", name="counters"),
        sa.Index("ix_participation_draft_paragraph_order", "consultation_id", "position"),
    )

    @property
    def title(self) -> str:
        """How the paragraph is named on a page: its number and heading, or nothing."""
        return " ".join(part for part in (self.number, self.heading) if part)
