"""A consultation's survey answers as rows for the exports (participation.services.exports).

No person appears: an answer set ("Antwortbogen") is numbered by its row id, which ties the answers of one set
together for cross-tabulation but names nobody, and it is dated by day only.

Who sees what follows participation.services.survey_results: the consultation's managers (and platform admins)
get every answer, free texts included, at any time; a moderator gets the answers only once the results are public
and never the free texts (unmoderated, they may name people). The council report gives the tallies from
survey_results and only the number of free texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa

from participation import rules
from participation.models import Consultation
from participation.models_surveys import QuestionKind, SurveyAnswer, SurveyOption, SurveyQuestion, SurveyResponse
from participation.services.survey_results import results_public
from participation.services.surveys import ordered_questions
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import to_berlin

KIND_WORDS = {  # fixed German words for the files, like their column headers
    QuestionKind.SINGLE.value: "Einfachauswahl",
    QuestionKind.MULTIPLE.value: "Mehrfachauswahl",
    QuestionKind.TEXT.value: "Freitext",
    QuestionKind.SCALE.value: "Skala",
}


def answer_rows(
    consultation: Consultation, actor: Actor, chunk: int = 2000
) -> Iterator[tuple[int | str | date | None, ...]]:
    """(answer set, day, question number, question, kind, answer) per answer the actor may see, answer sets in
    order; a multiple choice gives one row per ticked option."""
    managing = rules.is_manager(actor, consultation.department_id)
    if not managing and not results_public(consultation):
        return
    numbers = {question.id: number for number, question in enumerate(ordered_questions(consultation.id), start=1)}
    query = (
        sa.select(
            SurveyResponse.id,
            SurveyResponse.created_at,
            SurveyQuestion.id.label("question_id"),
            SurveyQuestion.text.label("question"),
            SurveyQuestion.kind,
            SurveyOption.label,
            SurveyAnswer.value,
            SurveyAnswer.text,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(SurveyOption, SurveyOption.id == SurveyAnswer.option_id)
        .where(SurveyResponse.consultation_id == consultation.id)
        .order_by(SurveyResponse.id, SurveyQuestion.position, SurveyQuestion.id, SurveyOption.position, SurveyAnswer.id)
    )
    if not managing:
        query = query.where(SurveyAnswer.text.is_(None))
    for row in db.session.execute(query.execution_options(yield_per=chunk)):
        answer = row.label if row.label is not None else row.value if row.value is not None else row.text
        yield (
            row.id,
            to_berlin(row.created_at).date(),
            numbers.get(row.question_id),
            row.question,
            KIND_WORDS.get(row.kind, row.kind),
            answer,
        )
