"""The managers' answer pages at /admin/beteiligung/<id>/antworten: a consultation's proposals waiting for an
official answer (or already answered), and one proposal's page to answer it and, once accepted, to note how far
its implementation got.

The routes admit consultation managers and platform admins; the services (participation.services.answers)
decide which consultation a person may answer for (another department's: 403) and when.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from participation.answer_forms import AnswerFilterForm, AnswerForm, ProgressForm
from participation.errors import ParticipationError
from participation.models_results import UpdateKind
from participation.services import answers
from participation.views_manage import ROLES, form_status, redirect_with, show_error, state_labels
from portal import access
from portal.actors import current_actor

bp = Blueprint("participation_answers", __name__, url_prefix="/admin/beteiligung")

# A status's badge colour on the lists and pages (KERN badge modifiers).
BADGES: dict[str, str] = {
    "accepted": "success",
    "under_review": "info",
    "rejected": "danger",
    "planned": "info",
    "in_progress": "info",
    "done": "success",
    "stopped": "warning",
}


@bp.record_once
def _template_helpers(state: Any) -> None:
    state.app.jinja_env.globals.update(
        participation_answer_label=lambda status: answers.status_label(UpdateKind.ANSWER, status),
        participation_progress_label=lambda status: answers.status_label(UpdateKind.IMPLEMENTATION, status),
        participation_status_badge=lambda status: BADGES.get(status or "", "info"),
    )


@bp.get("/<int:consultation_id>/antworten")
@access.roles(*ROLES)
def index(consultation_id: int):
    form = AnswerFilterForm(formdata=request.args)
    try:
        number = int(request.args.get("seite", "1"))
    except ValueError:
        number = 1
    try:
        consultation, listing = answers.answer_list(
            current_actor(), consultation_id, show=form.show, status=form.status, page=number
        )
    except ParticipationError:
        abort(400)
    query = {"zeigen": form.zeigen.data or "offen", "antwort": form.status or ""}
    return render_template(
        "participation/manage/answers.html",
        consultation=consultation,
        form=form,
        listing=listing,
        show=form.show,
        query={k: v for k, v in query.items() if v},
        state_labels=state_labels(),
    )


def _render(case: answers.AnswerCase, answer_form: AnswerForm, progress_form: ProgressForm) -> tuple[str, int]:
    page = render_template(
        "participation/manage/answers_proposal.html",
        case=case,
        consultation=case.consultation,
        proposal=case.proposal,
        history=case.history,
        answer_form=answer_form,
        progress_form=progress_form,
    )
    return page, max(form_status(answer_form), form_status(progress_form))


@bp.route("/<int:consultation_id>/antworten/<reference>", methods=["GET", "POST"])
@access.roles(*ROLES)
def proposal(consultation_id: int, reference: str) -> Any:
    actor = current_actor()
    case = answers.answer_case(actor, consultation_id, reference)
    form = AnswerForm(prefix="answer")
    if form.validate_on_submit():
        try:
            answers.answer(actor, case.proposal.id, form.status.data or "", form.text.data or "")
        except ParticipationError as error:
            show_error(form, error)
        else:
            return _done(_("Die Antwort ist veröffentlicht."), consultation_id, case)
    if request.method == "GET" and case.proposal.answer_status:
        form.status.data = case.proposal.answer_status  # a new answer usually changes the text, not always the status
    return _render(case, form, ProgressForm(prefix="progress", formdata=None))


@bp.post("/<int:consultation_id>/antworten/<reference>/umsetzung")
@access.roles(*ROLES)
def progress(consultation_id: int, reference: str) -> Any:
    actor = current_actor()
    case = answers.answer_case(actor, consultation_id, reference)
    form = ProgressForm(prefix="progress")
    if form.validate_on_submit():
        try:
            answers.add_progress(actor, case.proposal.id, form.status.data or "", form.text.data or "")
        except ParticipationError as error:
            show_error(form, error)
        else:
            return _done(_("Der Stand der Umsetzung ist veröffentlicht."), consultation_id, case)
    return _render(case, AnswerForm(prefix="answer", formdata=None), form)


def _done(message: str, consultation_id: int, case: answers.AnswerCase) -> Response:
    return redirect_with(
        message,
        "participation_answers.proposal",
        consultation_id=consultation_id,
        reference=case.proposal.reference,
    )
