"""A consultation's survey: its managers write the questions, participants answer once each.

Questions may change until the survey begins: while the consultation is a draft, and after publishing as long as
no phase that opens "answer_survey" has started and nobody has answered. From then on they stay as they are, so
every answer refers to the question that was asked and the results add up.

Answering follows the rules (participation.rules.refusal for "answer_survey") and is checked question by
question; the errors name their question (`SurveyInvalid.errors`), so a form shows each next to its question.
One answer set per person: a second submission, also a concurrent double click, hears "Sie haben schon
teilgenommen" (the consultation's row lock, and as the last guard the UNIQUE key of the response), never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import Consultation, ConsultationState
from participation.models_surveys import (
    OPTION_LABEL_MAX,
    QUESTION_TEXT_MAX,
    SCALE_LABEL_MAX,
    SCALE_STEPS_MAX,
    TEXT_ANSWER_MAX,
    QuestionKind,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)
from participation.services.common import (
    check_allowed,
    check_changeable,
    load_consultation,
    managed_consultation,
    visible_consultation,
)
from participation.text import optional_line, plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

QUESTIONS_MAX = 50
OPTIONS_MAX = 20
CHOICES = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


@dataclass
class QuestionDraft:
    """What a manager writes for a question (the editor's fields). `options`: one per entry, for single and
    multiple choice; the scale (numbers and end labels) for a scale question. The rest is ignored."""

    kind: str
    text: str
    required: bool = False
    options: list[str] = field(default_factory=list)
    scale_min: int | None = 1
    scale_max: int | None = 5
    min_label: str | None = None
    max_label: str | None = None


@dataclass
class SurveyInvalid(ParticipationError):  # noqa: N818 - a refusal of the input, like ParticipationError
    """Answers that do not fit their questions: `errors` maps a question's id to what is wrong with its answer."""

    errors: dict[int, Any] = field(default_factory=dict)


def already_answered() -> ParticipationError:
    return ParticipationError(
        "survey", _l("Sie haben schon teilgenommen: Je Person zählt eine Antwort."), "already_answered", 409
    )


def opens_later(consultation: Consultation, action: str, now: datetime | None = None) -> bool:
    """Nobody can have done `action` yet: the consultation is a draft, or published with every phase that opens
    the action still ahead (or none yet)."""
    if consultation.state == ConsultationState.DRAFT:
        return True
    if consultation.state != ConsultationState.PUBLISHED:
        return False
    now = now or utcnow()
    return all(phase.starts_at > now for phase in consultation.phases if action in phase.actions)


def questions_editable(consultation: Consultation, now: datetime | None = None) -> bool:
    """Whether the questions may still change (the answers are checked in the transaction, too)."""
    return opens_later(consultation, rules.ANSWER_SURVEY, now)


def _has_responses(consultation_id: int) -> bool:
    query = sa.select(SurveyResponse.id).where(SurveyResponse.consultation_id == consultation_id).limit(1)
    return db.session.scalar(query) is not None


def _check_editable(consultation: Consultation) -> None:
    check_changeable(consultation)
    if not questions_editable(consultation) or _has_responses(consultation.id):
        raise ParticipationError(
            "survey",
            _l("Die Fragen lassen sich nur ändern, bis die Umfrage beginnt."),
            "survey_started",
            409,
        )


# --- the questions (managers) -----------------------------------------------------------------------------------


def _options(draft: QuestionDraft) -> list[str]:
    labels: list[str] = []
    for raw in draft.options:
        label = optional_line(raw, "options", OPTION_LABEL_MAX)
        if label and label.casefold() not in {known.casefold() for known in labels}:
            labels.append(label)
    if len(labels) < 2:
        raise ParticipationError(
            "options", _l("Geben Sie mindestens zwei Antworten an, eine je Zeile."), "too_few_options"
        )
    if len(labels) > OPTIONS_MAX:
        raise ParticipationError("options", _l("Höchstens %(n)s Antworten.", n=OPTIONS_MAX), "too_many_options")
    return labels


def _scale(draft: QuestionDraft) -> dict[str, Any]:
    low, high = draft.scale_min, draft.scale_max
    if not isinstance(low, int) or isinstance(low, bool) or not 0 <= low <= 10:
        raise ParticipationError("scale_min", _l("Geben Sie eine Zahl von 0 bis 10 an."), "bad_scale")
    if not isinstance(high, int) or isinstance(high, bool) or not low < high < low + SCALE_STEPS_MAX:
        raise ParticipationError(
            "scale_max",
            _l("Geben Sie eine Zahl über dem Anfang an; höchstens %(n)s Stufen.", n=SCALE_STEPS_MAX),
            "bad_scale",
        )
    return {
        "scale_min": low,
        "scale_max": high,
        "min_label": optional_line(draft.min_label, "min_label", SCALE_LABEL_MAX),
        "max_label": optional_line(draft.max_label, "max_label", SCALE_LABEL_MAX),
    }


def _question_values(draft: QuestionDraft) -> tuple[dict[str, Any], list[str]]:
    if draft.kind not in {kind.value for kind in QuestionKind}:
        raise ParticipationError("kind", _l("Wählen Sie die Art der Frage."), "bad_kind")
    values: dict[str, Any] = {
        "kind": draft.kind,
        "text": plain_text(draft.text, "text", QUESTION_TEXT_MAX, multiline=False),
        "required": bool(draft.required),
        "scale_min": None,
        "scale_max": None,
        "min_label": None,
        "max_label": None,
    }
    if draft.kind == QuestionKind.SCALE:
        values.update(_scale(draft))
    return values, _options(draft) if draft.kind in CHOICES else []


def _set_options(question: SurveyQuestion, labels: list[str]) -> None:
    question.options[:] = [SurveyOption(position=i, label=label) for i, label in enumerate(labels)]


def _record(actor: Actor, consultation: Consultation, question_id: int, change: str) -> None:
    audit.record(
        "participation.survey_changed",
        actor,
        target=consultation,
        slug=consultation.slug,
        question=question_id,
        change=change,
    )


def ordered_questions(consultation_id: int) -> list[SurveyQuestion]:
    query = (
        sa.select(SurveyQuestion)
        .where(SurveyQuestion.consultation_id == consultation_id)
        .order_by(SurveyQuestion.position, SurveyQuestion.id)
        .options(selectinload(SurveyQuestion.options))
    )
    return list(db.session.scalars(query))


def add_question(actor: Actor, consultation_id: int, draft: QuestionDraft) -> SurveyQuestion:
    """Add a question at the end of the survey, until the survey begins."""
    values, labels = _question_values(draft)
    with transaction():
        consultation = managed_consultation(actor, consultation_id)
        _check_editable(consultation)
        existing = ordered_questions(consultation.id)
        if len(existing) >= QUESTIONS_MAX:
            raise ParticipationError("text", _l("Höchstens %(n)s Fragen.", n=QUESTIONS_MAX), "too_many_questions", 409)
        question = SurveyQuestion(consultation_id=consultation.id, position=len(existing), **values)
        _set_options(question, labels)
        db.session.add(question)
        db.session.flush()
        _record(actor, consultation, question.id, "added")
    return question


def _managed_question(actor: Actor, question_id: int) -> tuple[Consultation, SurveyQuestion]:
    """Inside a manager's transaction: the question's consultation locked (first), then the question."""
    question = db.session.get(SurveyQuestion, question_id)
    if question is None:
        raise NotFound()
    consultation = managed_consultation(actor, question.consultation_id)
    _check_editable(consultation)
    return consultation, question


def update_question(actor: Actor, question_id: int, draft: QuestionDraft) -> SurveyQuestion:
    """Change a question (its kind too), until the survey begins."""
    values, labels = _question_values(draft)
    with transaction():
        consultation, question = _managed_question(actor, question_id)
        for name, value in values.items():
            setattr(question, name, value)
        _set_options(question, labels)
        _record(actor, consultation, question.id, "changed")
    return question


def remove_question(actor: Actor, question_id: int) -> None:
    """Remove a question, until the survey begins; the others close ranks."""
    with transaction():
        consultation, question = _managed_question(actor, question_id)
        db.session.delete(question)
        db.session.flush()
        for position, other in enumerate(ordered_questions(consultation.id)):
            other.position = position
        _record(actor, consultation, question_id, "removed")


def move_question(actor: Actor, question_id: int, step: int) -> None:
    """Move a question one place up (step -1) or down (+1), until the survey begins."""
    with transaction():
        consultation, question = _managed_question(actor, question_id)
        ordered = ordered_questions(consultation.id)
        index = next(i for i, q in enumerate(ordered) if q.id == question.id)
        target = index + (1 if step > 0 else -1)
        if not 0 <= target < len(ordered):
            return
        ordered[index], ordered[target] = ordered[target], ordered[index]
        for position, other in enumerate(ordered):
            other.position = position
        _record(actor, consultation, question.id, "moved")


def list_questions(actor: Actor, consultation_id: int) -> list[SurveyQuestion]:
    """The survey's questions in order, with their options (two queries)."""
    consultation = visible_consultation(actor, consultation_id)
    return ordered_questions(consultation.id)


# --- answering (participants) ------------------------------------------------------------------------------------


def _response_of(consultation_id: int, user_id: int) -> int | None:
    return db.session.scalar(
        sa.select(SurveyResponse.id).where(
            SurveyResponse.consultation_id == consultation_id, SurveyResponse.user_id == user_id
        )
    )


def has_answered(actor: Actor, consultation_id: int) -> bool:
    """Whether the actor has answered this consultation's survey."""
    return actor.user is not None and _response_of(consultation_id, actor.user.id) is not None


def _given(raw: Any) -> list[str]:
    """The non-empty values sent for a question (a form sends strings; a list for checkboxes)."""
    values = raw if isinstance(raw, list | tuple) else [raw]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _answer(question: SurveyQuestion, raw: Any) -> list[dict[str, Any]]:
    """The answer rows for one question; ValueError with the message for the person."""
    if question.kind == QuestionKind.TEXT:
        if raw is not None and not isinstance(raw, str):
            raise ValueError(_l("Geben Sie hier einen Text an."))
        text = plain_text(raw, "answer", TEXT_ANSWER_MAX, required=False)  # too long: ParticipationError
        if not text:
            if question.required:
                raise ValueError(_l("Beantworten Sie diese Frage."))
            return []
        return [{"text": text}]
    given = _given(raw)
    if not given:
        if question.required:
            message = _l("Wählen Sie mindestens eine Antwort.") if question.kind == "multiple" else None
            raise ValueError(message or _l("Wählen Sie eine Antwort."))
        return []
    if question.kind == QuestionKind.SCALE:
        steps = question.steps
        if len(given) != 1 or not given[0].lstrip("-").isdigit() or int(given[0]) not in steps:
            raise ValueError(_l("Wählen Sie einen Wert von %(low)s bis %(high)s.", low=steps[0], high=steps[-1]))
        return [{"value": int(given[0])}]
    offered = {str(option.id): option.id for option in question.options}
    if any(value not in offered for value in given) or (question.kind == QuestionKind.SINGLE and len(given) > 1):
        raise ValueError(_l("Wählen Sie eine der angebotenen Antworten."))
    return [{"option_id": offered[value]} for value in dict.fromkeys(given)]


def check_answers(questions: list[SurveyQuestion], answers: Mapping[int, Any]) -> list[dict[str, Any]]:
    """All answer rows for `answers` (question id → what was sent), or SurveyInvalid naming each question whose
    answer does not fit."""
    rows: list[dict[str, Any]] = []
    errors: dict[int, Any] = {}
    for question in questions:
        try:
            found = _answer(question, answers.get(question.id))
        except ParticipationError as error:  # plain_text: too long
            errors[question.id] = _l("Höchstens 2.000 Zeichen.") if error.code == "too_long" else error.message
        except ValueError as error:
            errors[question.id] = error.args[0]
        else:
            rows += [{"question_id": question.id, **row} for row in found]
    if errors:
        first = next(iter(errors.values()))
        raise SurveyInvalid("answers", first, "invalid_answers", 422, errors)
    if not rows:
        raise SurveyInvalid("answers", _l("Beantworten Sie mindestens eine Frage."), "no_answers", 422)
    return rows


def answer_survey(actor: Actor, consultation_id: int, answers: Mapping[int, Any]) -> SurveyResponse:
    """Answer the consultation's survey: `answers` maps a question's id to the option id(s), the scale value or
    the text sent. Refused with the rules' message outside a phase that opens "answer_survey", and a second time
    (already_answered, 409); SurveyInvalid (422) when an answer does not fit its question."""
    consultation = visible_consultation(actor, consultation_id)
    check_allowed(actor, consultation, rules.ANSWER_SURVEY, "survey")
    user = actor.user
    assert user is not None  # the rules let only signed-in people answer
    with transaction():
        locked = load_consultation(consultation_id, for_update=True)
        check_allowed(actor, locked, rules.ANSWER_SURVEY, "survey")
        if _response_of(locked.id, user.id) is not None:
            raise already_answered()
        questions = ordered_questions(locked.id)
        if not questions:
            raise ParticipationError("survey", _l("Diese Umfrage hat noch keine Fragen."), "no_questions", 409)
        rows = check_answers(questions, answers)
        response = SurveyResponse(consultation_id=locked.id, user_id=user.id)
        try:
            db.session.add(response)
            db.session.flush()
        except IntegrityError:
            raise already_answered() from None  # a concurrent click won; transaction() rolls ours back
        db.session.add_all(SurveyAnswer(response_id=response.id, **row) for row in rows)
        audit.record(
            "participation.survey_answered",
            actor,
            target=locked,
            subject_user_id=user.id,
            consultation=locked.slug,
            questions=len({row["question_id"] for row in rows}),
        )
    return response
