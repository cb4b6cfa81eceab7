"""Builders for the survey and draft-text tests: a consultation with a survey of four questions (one of each
kind), a draft text of a small statute, and answering through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from participation.models import Consultation
from participation.models_surveys import DraftParagraph, SurveyQuestion
from participation.services import consultations, drafts, surveys
from participation.services.surveys import QuestionDraft
from portal.accounts.models import User
from tests.participation.builders import DAY, World, actor, make_consultation

STATUTE = """§ 1 Geltungsbereich
Diese Satzung gilt für alle öffentlichen Grünanlagen der Stadt.

§ 2 Nutzung

(1) Die Grünanlagen dürfen von jedermann zur Erholung genutzt werden.

(2) Hunde sind an der Leine zu führen.

§ 3 Inkrafttreten
Diese Satzung tritt am Tag nach ihrer Bekanntmachung in Kraft."""


@dataclass
class Survey:
    consultation: Consultation
    way: SurveyQuestion  # single: Zu Fuß | Mit dem Rad | Mit Bus und Bahn (required)
    missing: SurveyQuestion  # multiple: Bänke | Bäume | Toiletten (required)
    rating: SurveyQuestion  # scale 1 … 5, "gar nicht wichtig" … "sehr wichtig" (required)
    remarks: SurveyQuestion  # text (optional)

    def option(self, question: SurveyQuestion, label: str) -> int:
        return next(o.id for o in question.options if o.label == label)

    def answers(
        self,
        way: str | None = "Zu Fuß",
        missing: list[str] | None = None,
        rating: Any = "4",
        remarks: str | None = "",
    ) -> dict[int, Any]:
        """What a filled-in form sends (option ids as strings), by question id."""
        return {
            self.way.id: str(self.option(self.way, way)) if way else None,
            self.missing.id: [str(self.option(self.missing, label)) for label in (missing or ["Bäume"])],
            self.rating.id: rating,
            self.remarks.id: remarks,
        }


QUESTIONS = [
    QuestionDraft("single", "Wie kommen Sie zum Altmarkt?", True, ["Zu Fuß", "Mit dem Rad", "Mit Bus und Bahn"]),
    QuestionDraft("multiple", "Was fehlt am Altmarkt?", True, ["Bänke", "Bäume", "Toiletten"]),
    QuestionDraft("scale", "Wie wichtig ist Ihnen Schatten?", True, [], 1, 5, "gar nicht wichtig", "sehr wichtig"),
    QuestionDraft("text", "Was möchten Sie uns noch sagen?", False),
]


def make_survey(
    world: World,
    *,
    start: timedelta = -DAY,
    end: timedelta = 10 * DAY,
    publish: bool = True,
    title: str = "Umfrage zum Altmarkt",
    **draft: Any,
) -> Survey:
    """A consultation whose one phase is a survey over [now + start, now + end), with the four QUESTIONS
    (written while it is a draft), published unless `publish` is False."""
    consultation = make_consultation(world, phases=[("survey", start, end)], publish=False, title=title, **draft)
    manager = actor(world.manager)
    added = [surveys.add_question(manager, consultation.id, question) for question in QUESTIONS]
    if publish:
        consultations.publish(manager, consultation.id)
    return Survey(consultation, *added)


def answer(survey: Survey, user: User, **choices: Any) -> Any:
    return surveys.answer_survey(actor(user), survey.consultation.id, survey.answers(**choices))


def make_draft(
    world: World, *, start: timedelta = -DAY, end: timedelta = 10 * DAY, text: str = STATUTE, **draft: Any
) -> tuple[Consultation, list[DraftParagraph]]:
    """A published consultation whose one phase opens commenting a draft text (the small statute by default)."""
    consultation = make_consultation(
        world, phases=[("draft", start, end)], publish=False, title="Satzung über Grünanlagen", **draft
    )
    paragraphs = drafts.save_draft(actor(world.manager), consultation.id, text)
    consultations.publish(actor(world.manager), consultation.id)
    return consultation, paragraphs
