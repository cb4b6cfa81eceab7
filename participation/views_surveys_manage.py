"""The consultation managers' editors for a survey and a draft text, at /admin/beteiligung/<id>/umfrage and
/admin/beteiligung/<id>/entwurf, and the free-text answers of a question page by page.

Questions change until the survey begins, the draft text until commenting it begins (the services say so and
refuse afterwards; the pages then show the questions and the text read-only). The routes admit consultation
managers and platform admins; which consultation a person may change is decided in the services.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from participation import rules
from participation.errors import ParticipationError
from participation.models import Consultation
from participation.models_surveys import SurveyQuestion
from participation.services import consultations, drafts, survey_results, surveys
from participation.survey_forms import DraftForm, QuestionForm, question_kind_labels
from participation.views_manage import form_status, redirect_with, show_error
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm

bp = Blueprint("participation_survey_manage", __name__, url_prefix="/admin/beteiligung")

ROLES = (rules.MANAGER_ROLE, rules.ADMIN_ROLE)


def _survey_page(consultation: Consultation) -> Response:
    return redirect(url_for("participation_survey_manage.survey", consultation_id=consultation.id), 303)


def _editable(consultation: Consultation) -> bool:
    return surveys.questions_editable(consultation)  # False once closed, too


def _not_editable(consultation: Consultation) -> Response | None:
    """Back to the survey with the reason when its questions can no longer change (the service refuses too)."""
    if _editable(consultation):
        return None
    flash(_("Die Fragen lassen sich nur ändern, bis die Umfrage beginnt."), "danger")
    return _survey_page(consultation)


def _question_of(consultation: Consultation, question_id: int) -> SurveyQuestion:
    question = next((q for q in surveys.list_questions(current_actor(), consultation.id) if q.id == question_id), None)
    if question is None:
        abort(404)
    return question


@bp.get("/<int:consultation_id>/umfrage")
@access.roles(*ROLES)
def survey(consultation_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    return render_template(
        "participation/manage/survey.html",
        consultation=consultation,
        questions=surveys.list_questions(actor, consultation.id),
        editable=_editable(consultation),
        has_phase=any(rules.ANSWER_SURVEY in phase.actions for phase in consultation.phases),
        kind_labels=question_kind_labels(),
        move_form=ConfirmForm(),
    )


def _save(form: QuestionForm, save: Any) -> bool:
    try:
        save(form.draft())
    except ParticipationError as error:
        show_error(form, error)
        return False
    return True


def _render_question(form: QuestionForm, consultation: Consultation, question: SurveyQuestion | None) -> Any:
    page = render_template(
        "participation/manage/survey_question.html", form=form, consultation=consultation, question=question
    )
    return page, form_status(form)


@bp.route("/<int:consultation_id>/umfrage/neu", methods=["GET", "POST"])
@access.roles(*ROLES)
def question_new(consultation_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    if (refused := _not_editable(consultation)) is not None:
        return refused
    form = QuestionForm()
    if form.validate_on_submit() and _save(form, lambda draft: surveys.add_question(actor, consultation.id, draft)):
        return redirect_with(
            _("Die Frage ist angelegt."), "participation_survey_manage.survey", consultation_id=consultation.id
        )
    return _render_question(form, consultation, None)


@bp.route("/<int:consultation_id>/umfrage/<int:question_id>", methods=["GET", "POST"])
@access.roles(*ROLES)
def question_edit(consultation_id: int, question_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    question = _question_of(consultation, question_id)
    if (refused := _not_editable(consultation)) is not None:
        return refused
    form = QuestionForm(data=QuestionForm.stored(question))
    if form.validate_on_submit() and _save(form, lambda draft: surveys.update_question(actor, question.id, draft)):
        return redirect_with(
            _("Die Frage ist gespeichert."), "participation_survey_manage.survey", consultation_id=consultation.id
        )
    return _render_question(form, consultation, question)


@bp.route("/<int:consultation_id>/umfrage/<int:question_id>/entfernen", methods=["GET", "POST"])
@access.roles(*ROLES)
def question_remove(consultation_id: int, question_id: int):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    question = _question_of(consultation, question_id)
    if (refused := _not_editable(consultation)) is not None:
        return refused
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            surveys.remove_question(actor, question.id)
        except ParticipationError as error:
            flash(str(error.message), "danger")
            return _survey_page(consultation)
        return redirect_with(
            _("Die Frage ist entfernt."), "participation_survey_manage.survey", consultation_id=consultation.id
        )
    return render_template(
        "participation/manage/survey_remove.html", consultation=consultation, question=question, form=form
    ), form_status(form)


@bp.post("/<int:consultation_id>/umfrage/<int:question_id>/<any(hoch, runter):direction>")
@access.roles(*ROLES)
def question_move(consultation_id: int, question_id: int, direction: str):
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    question = _question_of(consultation, question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        surveys.move_question(actor, question.id, -1 if direction == "hoch" else 1)
    except ParticipationError as error:
        flash(str(error.message), "danger")
    return redirect(
        url_for("participation_survey_manage.survey", consultation_id=consultation.id) + f"#frage-{question.id}", 303
    )


@bp.get("/<int:consultation_id>/umfrage/<int:question_id>/antworten")
@access.roles(*ROLES)
def texts(consultation_id: int, question_id: int):
    """Every free-text answer to a question, page by page, without names."""
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    try:
        found = survey_results.text_answers(actor, question_id, cursor=request.args.get("nach"))
    except ParticipationError as error:  # a cursor that does not exist
        abort(error.status if error.status == 400 else 404)
    if found.consultation.id != consultation.id:
        abort(404)
    return render_template(
        "participation/manage/survey_texts.html",
        consultation=consultation,
        question=found.question,
        page=found.page,
        paged=bool(request.args.get("nach")),
    )


# --- the draft text -----------------------------------------------------------------------------------------------


@bp.route("/<int:consultation_id>/entwurf", methods=["GET", "POST"])
@access.roles(*ROLES)
def draft(consultation_id: int):
    """Paste the draft; blank lines separate its paragraphs. Read-only once commenting it has begun."""
    actor = current_actor()
    consultation = consultations.get_managed(actor, consultation_id)
    paragraphs = drafts.list_paragraphs(actor, consultation.id)
    editable = drafts.draft_editable(consultation)  # False once closed, too
    form = DraftForm(data={"text": drafts.draft_as_text(paragraphs)})
    if editable and form.validate_on_submit():
        try:
            saved = drafts.save_draft(actor, consultation.id, form.text.data or "")
        except ParticipationError as error:
            show_error(form, error)
        else:
            return redirect_with(
                _("Der Entwurf ist gespeichert: %(n)s Absätze.", n=len(saved)),
                "participation_survey_manage.draft",
                consultation_id=consultation.id,
            )
    elif not editable and request.method == "POST":
        flash(_("Der Entwurf lässt sich nur ändern, bis seine Kommentierung beginnt."), "danger")
        return redirect(url_for("participation_survey_manage.draft", consultation_id=consultation.id), 303)
    return render_template(
        "participation/manage/draft.html",
        consultation=consultation,
        paragraphs=paragraphs,
        editable=editable,
        form=form,
    ), form_status(form)
