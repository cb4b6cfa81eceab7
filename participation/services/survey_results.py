"""A survey's results: how many took part, counts per option, each scale's distribution and mean, free texts.

Everything is counted by the database in a fixed number of grouped queries, however many took part. The results
are public once the survey is over (every phase that opens "answer_survey" has ended, or the consultation is
closed), so early figures never sway later answers; the consultation's managers see them all along.

Free-text answers are never shown with their author. They are listed for the consultation's managers only: they
were not moderated and may name people or contain what a moderator would hide; the public sees how many there
are, and the administration reports on them in its evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, NotFound

from participation import rules
from participation.errors import ParticipationError
from participation.models import Consultation, ConsultationState
from participation.models_surveys import QuestionKind, SurveyAnswer, SurveyQuestion, SurveyResponse
from participation.services.common import (
    Page,
    decode_cursor,
    encode_cursor,
    page_size,
    visible_consultation,
)
from participation.services.surveys import ordered_questions
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow

TEXTS_SHOWN = 20  # free texts per question on the results page; the rest page by page


@dataclass
class Bar:
    """One option or scale step: how many chose it, and their share of those who answered the question."""

    label: str
    count: int
    share: float


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int  # people who answered this question
    bars: list[Bar] = field(default_factory=list)  # options, or the scale's steps lowest first
    mean: float | None = None  # scale questions
    texts: list[str] | None = None  # free texts (managers only; None: not shown to this person)
    more_texts: bool = False


@dataclass
class SurveyResults:
    consultation: Consultation
    respondents: int
    questions: list[QuestionResult]
    public: bool  # everyone may see them now (else only the managers do)
    texts_shown: bool


def survey_phases_end(consultation: Consultation) -> datetime | None:
    """When the last phase that opens "answer_survey" ends (None: the timeline has none)."""
    return max((p.ends_at for p in consultation.phases if rules.ANSWER_SURVEY in p.actions), default=None)


def results_public(consultation: Consultation, now: datetime | None = None) -> bool:
    """The survey is over: the consultation is closed, or every phase that opened the survey has ended."""
    if consultation.state in (ConsultationState.CLOSED, ConsultationState.ARCHIVED):
        return True
    if consultation.state != ConsultationState.PUBLISHED:
        return False
    end = survey_phases_end(consultation)
    return end is not None and end <= (now or utcnow())


def _not_yet(consultation: Consultation) -> ParticipationError:
    end = survey_phases_end(consultation)
    if end is None or consultation.state != ConsultationState.PUBLISHED:
        message = _l("Die Ergebnisse erscheinen, sobald die Umfrage beendet ist.")
    else:
        when = to_berlin(end).strftime("%d.%m.%Y, %H:%M Uhr")
        message = _l("Die Ergebnisse erscheinen, sobald die Umfrage beendet ist: am %(when)s.", when=when)
    return ParticipationError("results", message, "results_not_yet", 403)


def _scale_label(question: SurveyQuestion, value: int) -> str:
    end = (
        question.min_label
        if value == question.scale_min
        else question.max_label
        if value == question.scale_max
        else None
    )
    return f"{value} – {end}" if end else str(value)


def _grouped(consultation_id: int, *columns: Any) -> list[Any]:
    """Answer counts of the consultation's survey grouped by `columns` (one query)."""
    query = (
        sa.select(*columns, sa.func.count(SurveyAnswer.id))
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyQuestion.consultation_id == consultation_id)
        .group_by(*columns)
    )
    return list(db.session.execute(query))


def _first_texts(question_ids: list[int], per_question: int) -> dict[int, list[str]]:
    """The first `per_question` + 1 free texts of each question (the extra one says there are more), one query."""
    if not question_ids:
        return {}
    rank = sa.func.row_number().over(partition_by=SurveyAnswer.question_id, order_by=SurveyAnswer.id).label("rank")
    ranked = (
        sa.select(SurveyAnswer.question_id, SurveyAnswer.text, rank)
        .where(SurveyAnswer.question_id.in_(question_ids), SurveyAnswer.text.is_not(None))
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked.c.question_id, ranked.c.text)
        .where(ranked.c.rank <= per_question + 1)
        .order_by(ranked.c.question_id, ranked.c.rank)
    )
    texts: dict[int, list[str]] = {}
    for question_id, text in rows:
        texts.setdefault(question_id, []).append(text)
    return texts


def survey_results(actor: Actor, consultation_id: int, *, now: datetime | None = None) -> SurveyResults:
    """The results for everyone once the survey is over (before: results_not_yet, 403), for the consultation's
    managers at any time and with the free texts. Seven queries whatever the number of answers."""
    consultation = visible_consultation(actor, consultation_id)
    staff = rules.is_manager(actor, consultation.department_id)
    public = results_public(consultation, now)
    if not (public or staff):
        raise _not_yet(consultation)
    return count_results(consultation, public=public, with_texts=staff)


def count_results(consultation: Consultation, *, public: bool, with_texts: bool) -> SurveyResults:
    """The counting behind survey_results, without its check of who may see them: for a caller that made its own
    (the council's readers, participation.services.readers, see them before the survey ends, without free texts).
    `with_texts`: list the first free texts of each question."""
    staff = with_texts
    questions = ordered_questions(consultation.id)
    respondents = db.session.scalar(
        sa.select(sa.func.count(SurveyResponse.id)).where(SurveyResponse.consultation_id == consultation.id)
    )
    answered_by = dict(
        db.session.execute(
            sa.select(SurveyAnswer.question_id, sa.func.count(sa.distinct(SurveyAnswer.response_id)))
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(SurveyQuestion.consultation_id == consultation.id)
            .group_by(SurveyAnswer.question_id)
        ).all()
    )
    per_option = {option_id: n for option_id, n in _grouped(consultation.id, SurveyAnswer.option_id) if option_id}
    per_value = {
        (question_id, value): n
        for question_id, value, n in _grouped(consultation.id, SurveyAnswer.question_id, SurveyAnswer.value)
        if value is not None
    }
    texts = _first_texts([q.id for q in questions if q.kind == QuestionKind.TEXT], TEXTS_SHOWN) if staff else {}
    results = []
    for question in questions:
        answered = int(answered_by.get(question.id, 0))
        result = QuestionResult(question, answered)

        def bar(label: str, count: int, answered: int = answered) -> Bar:
            return Bar(label, count, count / answered if answered else 0.0)

        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            result.bars = [bar(o.label, per_option.get(o.id, 0)) for o in question.options]
        elif question.kind == QuestionKind.SCALE:
            counts = {value: per_value.get((question.id, value), 0) for value in question.steps}
            result.bars = [bar(_scale_label(question, value), n) for value, n in counts.items()]
            total = sum(counts.values())
            result.mean = sum(value * n for value, n in counts.items()) / total if total else None
        elif staff:
            shown = texts.get(question.id, [])
            result.texts, result.more_texts = shown[:TEXTS_SHOWN], len(shown) > TEXTS_SHOWN
        results.append(result)
    return SurveyResults(consultation, int(respondents or 0), results, public, staff)


@dataclass
class TextAnswers:
    question: SurveyQuestion
    consultation: Consultation
    page: Page[str]


def text_answers(actor: Actor, question_id: int, *, cursor: str | None = None, limit: int = 50) -> TextAnswers:
    """A free-text question's answers, oldest first, page by page, for the consultation's managers (no author)."""
    question = db.session.get(SurveyQuestion, question_id)
    if question is None or question.kind != QuestionKind.TEXT:
        raise NotFound()
    consultation = visible_consultation(actor, question.consultation_id)
    if not rules.is_manager(actor, consultation.department_id):
        raise Forbidden()
    size = page_size(limit, 50)
    after = decode_cursor(cursor, int)
    query = sa.select(SurveyAnswer.id, SurveyAnswer.text).where(
        SurveyAnswer.question_id == question.id, SurveyAnswer.text.is_not(None)
    )
    if after is not None:
        query = query.where(SurveyAnswer.id > after[0])
    rows = db.session.execute(query.order_by(SurveyAnswer.id).limit(size + 1)).all()
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return TextAnswers(question, consultation, Page([row.text for row in rows[:size]], next_cursor))
