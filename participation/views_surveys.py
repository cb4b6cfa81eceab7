"""The participants' survey pages: all questions on one page, and the results as charts with their figures.

The form is built from the consultation's questions (no form class: they live in the database); each answer is
sent as `frage-<question id>` (several values for checkboxes) with the CSRF token. A refusal, or an answer that
does not fit, comes back on the same page: an error summary above, each error next to its question, everything
chosen or typed kept. A second submission (a double click) hears that the person has taken part already.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from participation import rules
from participation.errors import ParticipationError
from participation.models import Consultation
from participation.models_surveys import QuestionKind, SurveyQuestion
from participation.services import consultations, survey_results, surveys
from participation.services.surveys import SurveyInvalid
from portal import access
from portal.actors import current_actor

bp = Blueprint("participation_surveys", __name__)


@bp.record_once
def _template_helpers(state: Any) -> None:
    # The consultation page links to the results once they are out (participation/_survey_draft_links.html).
    state.app.jinja_env.globals["participation_survey_results_public"] = survey_results.results_public


def sent_answers(questions: list[SurveyQuestion]) -> dict[int, Any]:
    """What the form sent for each question: a list for checkboxes, else one string (or None)."""
    values: dict[int, Any] = {}
    for question in questions:
        name = f"frage-{question.id}"
        values[question.id] = (
            request.form.getlist(name) if question.kind == QuestionKind.MULTIPLE else request.form.get(name)
        )
    return values


def _page(
    consultation: Consultation,
    questions: list[SurveyQuestion],
    *,
    values: dict[int, Any] | None = None,
    errors: dict[int, Any] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Any:
    actor = current_actor()
    answered = surveys.has_answered(actor, consultation.id)
    refusal = None if answered else rules.refusal(actor, consultation, rules.ANSWER_SURVEY)
    return render_template(
        "participation/survey.html",
        consultation=consultation,
        questions=questions,
        answered=answered,
        refusal=refusal,
        values=values or {},
        errors=errors or {},
        message=message,
        results_public=survey_results.results_public(consultation),
        is_manager=rules.is_manager(actor, consultation.department_id),
    ), status


@bp.route("/beteiligung/<slug>/umfrage", methods=["GET", "POST"])
@access.public
def survey(slug: str):
    actor = current_actor()
    consultation = consultations.get_by_slug(actor, slug)
    questions = surveys.list_questions(actor, consultation.id)
    if request.method == "GET":
        return _page(consultation, questions)
    values = sent_answers(questions)
    try:
        surveys.answer_survey(actor, consultation.id, values)
    except SurveyInvalid as error:
        message = None if error.errors else str(error.message)
        return _page(consultation, questions, values=values, errors=error.errors, message=message, status=422)
    except ParticipationError as error:  # the rules' refusal (its status), or already_answered (409)
        return _page(consultation, questions, values=values, message=str(error.message), status=error.status)
    flash(_("Danke! Ihre Antworten sind gespeichert."), "success")
    return redirect(url_for("participation_surveys.survey", slug=consultation.slug), 303)


@bp.get("/beteiligung/<slug>/umfrage/ergebnisse")
@access.public
def results(slug: str):
    """The results once the survey is over (the consultation's managers: any time, with the free texts)."""
    actor = current_actor()
    consultation = consultations.get_by_slug(actor, slug)
    try:
        found = survey_results.survey_results(actor, consultation.id)
    except ParticipationError as error:
        return render_template(
            "participation/survey_results.html", consultation=consultation, results=None, message=str(error.message)
        )
    return render_template("participation/survey_results.html", consultation=consultation, results=found)
