"""HTML routes of the permit clerks (Verkehrs- und Tiefbauamt) under /sondernutzung/amt: the case list, a case's
page (application, attachments, fee, documents, history) with the formal check and the decision. Thin: parse,
call one service function of permits.services.desk, render or redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms.fields import SelectChoice

from permits import desk_forms, rules
from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitApplication, PermitState
from permits.services import advice, consultation, desk, fee_payments, statements
from permits.views import STATE_TEXT, put_errors
from portal import access
from portal.actors import current_actor
from portal.audit.queries import details_of
from portal.forms import ConfirmForm

bp = Blueprint("permits_desk", __name__, url_prefix="/sondernutzung/amt")
clerks = access.roles(rules.OFFICER_ROLE, rules.ADMIN_ROLE)
S = PermitState


def _load(public_id: str) -> PermitApplication:
    try:
        return desk.get_case(current_actor(), public_id)
    except PermitNotFound:
        abort(404)


@bp.get("/")
@clerks
def index():
    form = desk_forms.FilterForm(request.args)
    form.state.choices = [("", _("Alle"))] + [(s.value, str(STATE_TEXT[s])) for s in S if s != S.DRAFT]
    cases: list[PermitApplication] = []
    if form.validate():
        try:
            cases = desk.case_list(current_actor(), form.state.data or None, form.q.data)
        except PermitError as refused:
            form.state.errors = [str(refused.message)]
    return render_template("permits/desk/index.html", form=form, cases=cases), 200 if not form.errors else 422


def _page(
    application: PermitApplication,
    status: int = 200,
    consultation_result: consultation.Consultation | None = None,
    **forms: FlaskForm,
) -> Any:
    actor = current_actor()
    events = desk.history(actor, application)
    return render_template(
        "permits/desk/case.html",
        application=application,
        events=[(event, details_of(event)) for event in events],
        confirm=ConfirmForm(formdata=None),
        request_form=forms.get("request_form") or desk_forms.RequestDocumentsForm(formdata=None),
        grant_form=forms.get("grant_form")
        or desk_forms.GrantForm(
            formdata=None,
            valid_from=application.starts_on,
            valid_until=application.ends_on,
            conditions=statements.conditions_for_permit(application),
        ),
        statement_form=forms.get("statement_form") or _statement_form(application, formdata=None),
        statements=statements.statements_of(application),
        may_ask=application.state in statements.ASKABLE,
        refuse_form=forms.get("refuse_form") or desk_forms.RefuseForm(formdata=None),
        may_check=application.state in desk.CHECKING and application.accepted_at is None,
        may_decide=application.state in desk.DECIDABLE and application.accepted_at is not None,
        payment_path=fee_payments.payment_path(application),
        may_consult=application.state in consultation.CONSULTABLE,
        consultation=consultation_result,
        advice_bookings=advice.for_officer(application),
    ), status


def _statement_form(application: PermitApplication, **kwargs: Any) -> desk_forms.StatementRequestForm:
    form = desk_forms.StatementRequestForm(**kwargs)
    form.department_id.choices = [SelectChoice(d.id, d.name) for d in statements.askable_departments(application)]
    return form


@bp.get("/<public_id>")
@clerks
def case(public_id: str):
    return _page(_load(public_id))


def _done(public_id: str, message: str) -> Any:
    flash(message, "success")
    return redirect(url_for(".case", public_id=public_id))


@bp.post("/<public_id>/vollstaendig")
@clerks
def accept(public_id: str):
    application = _load(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        desk.accept(current_actor(), application)
    except PermitError as refused:
        flash(str(refused.message), "danger")
        return redirect(url_for(".case", public_id=public_id))
    return _done(public_id, _("Die formelle Prüfung ist abgeschlossen. Sie können jetzt entscheiden."))


@bp.post("/<public_id>/nachfordern")
@clerks
def request_documents(public_id: str):
    application = _load(public_id)
    form = desk_forms.RequestDocumentsForm()
    if form.validate_on_submit():
        try:
            desk.request_documents(current_actor(), application, form.note.data or "")
        except PermitError as refused:
            form.note.errors = [str(refused.message)]
        else:
            return _done(public_id, _("Die Antragstellerin oder der Antragsteller ist um Unterlagen gebeten."))
    return _page(application, 422, request_form=form)


def _decide(application: PermitApplication, name: str, form: Any, act: Callable[[], object], done: str) -> Any:
    """A desk form's post: the case page again with the field errors (422), the refusal as a message, or done."""
    if form.validate_on_submit():
        try:
            act()
        except PermitInvalid as errors:
            put_errors(form, errors)
        except PermitError as refused:
            flash(str(refused.message), "danger")
            return redirect(url_for(".case", public_id=application.public_id))
        else:
            return _done(application.public_id, done)
    return _page(application, 422, **{name: form})


@bp.post("/<public_id>/erteilen")
@clerks
def grant(public_id: str):
    application = _load(public_id)
    form = desk_forms.GrantForm()
    return _decide(
        application,
        "grant_form",
        form,
        lambda: desk.grant(
            current_actor(),
            application,
            desk.Grant(form.valid_from.data, form.valid_until.data, form.conditions.data or ""),
        ),
        _("Die Erlaubnis ist erteilt; die Bescheide sind im Konto der Antragsteller."),
    )


@bp.post("/<public_id>/ablehnen")
@clerks
def refuse(public_id: str):
    application = _load(public_id)
    form = desk_forms.RefuseForm()
    if form.validate_on_submit():
        try:
            desk.refuse(current_actor(), application, form.reasons.data or "")
        except PermitError as refused:
            form.reasons.errors = [str(refused.message)]
        else:
            return _done(public_id, _("Der Antrag ist abgelehnt; der Bescheid ist im Konto der Antragsteller."))
    return _page(application, 422, refuse_form=form)


@bp.post("/<public_id>/bauordnungsamt")
@clerks
def consult(public_id: str):
    """Read the building authority's records about the applicant for this case (logged in their access log)."""
    application = _load(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        found = consultation.consult_building_authority(current_actor(), application)
    except PermitError as refused:
        flash(str(refused.message), "danger")
        return redirect(url_for(".case", public_id=public_id))
    return _page(application, consultation_result=found)


@bp.get("/<public_id>/bescheid/<kind>.pdf")
@clerks
def document(public_id: str, kind: str):
    from permits.views import send_document

    application = _load(public_id)
    return send_document(application, kind)


@bp.post("/<public_id>/stellungnahme")
@clerks
def ask_statement(public_id: str):
    """Ask another department (e.g. the traffic office) for its statement on the case."""
    application = _load(public_id)
    form = _statement_form(application)
    return _decide(
        application,
        "statement_form",
        form,
        lambda: statements.request_statement(
            current_actor(), application, form.department_id.data, form.question.data, form.due_on.data
        ),
        _("Das Amt ist um eine Stellungnahme gebeten und per E-Mail benachrichtigt."),
    )


@bp.get("/stellungnahmen")
@access.staff
def statement_list():
    """The open statement requests of the reader's departments."""
    return render_template("permits/desk/statements.html", statements=statements.open_for(current_actor()))


def _statement(statement_id: int) -> Any:
    try:
        return statements.get_statement(current_actor(), statement_id)
    except PermitNotFound:
        abort(404)


@bp.route("/stellungnahmen/<int:statement_id>", methods=["GET", "POST"])
@access.staff
def statement(statement_id: int):
    """A statement request: the case in brief and the question; the asked department's members answer here."""
    found = _statement(statement_id)
    actor = current_actor()
    form = desk_forms.StatementAnswerForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            answer = statements.Answer(form.verdict.data, form.text.data or "", form.conditions.data or "")
            try:
                statements.answer_statement(actor, found, answer)
            except PermitInvalid as errors:
                put_errors(form, errors)
            except PermitError as refused:
                flash(str(refused.message), "danger")
                return redirect(url_for(".statement", statement_id=statement_id))
            else:
                flash(
                    _("Ihre Stellungnahme ist abgegeben. Das Verkehrs- und Tiefbauamt ist benachrichtigt."), "success"
                )
                return redirect(url_for(".statement", statement_id=statement_id))
        status = 422
    return render_template(
        "permits/desk/statement.html",
        statement=found,
        application=found.application,
        form=form,
        may_answer=found.answered_at is None and statements.is_member(actor, found.department_id),
    ), status
