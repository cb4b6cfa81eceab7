"""The treasury's pages for bank transfers and the day's close (/admin/kasse/kontoauszuege, /tagesabschluss):
importing a statement, the lines nobody could match, deciding one, the daily reconciliation and its CSV.

Thin: parse the form, call one service function (payments.services.statements / reconciliation), render or
redirect. Who may do what is checked in the services; the access rule only keeps everybody else out early.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from payments.errors import PaymentError
from payments.models_bank import LineStatus
from payments.services import reconciliation, statements
from portal import access
from portal.actors import current_actor
from portal.timeutil import to_berlin, utcnow

bp = Blueprint("payments_reconciliation", __name__, url_prefix="/admin/kasse")

treasury_only = access.roles(*statements.TREASURY_ROLES)


def reason_labels() -> dict[str, str]:
    return {
        "no_kassenzeichen": _("Kein Kassenzeichen im Verwendungszweck"),
        "invalid_kassenzeichen": _("Kassenzeichen mit falschen Prüfziffern (Tippfehler?)"),
        "unknown_kassenzeichen": _("Kassenzeichen unbekannt"),
        "several_kassenzeichen": _("Mehrere Kassenzeichen in einer Überweisung"),
        "amount_differs": _("Betrag weicht ab"),
        "already_paid": _("Bereits bezahlt (doppelte Zahlung oder Überzahlung)"),
        "currency": _("Andere Währung als Euro"),
    }


def status_labels() -> dict[str, str]:
    return {
        LineStatus.MATCHED: _("Automatisch zugeordnet"),
        LineStatus.ASSIGNED: _("Von Hand zugeordnet"),
        LineStatus.UNMATCHED: _("Offen"),
        LineStatus.RETURNED: _("Nicht unsere / zur Rücküberweisung"),
        LineStatus.IGNORED: _("Lastschrift/Abgang (kein Abgleich)"),
    }


class StatementForm(FlaskForm):
    statement = FileField(
        _l("Kontoauszug (CSV oder CAMT.053)"), validators=[FileRequired(_l("Wählen Sie eine Datei aus."))]
    )


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET) changes nothing

    kassenzeichen = StringField(_l("Kassenzeichen"), validators=[DataRequired(), Length(max=40)])


class AssignForm(FlaskForm):
    kassenzeichen = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Notiz"), validators=[Optional(), Length(max=500)])


class ReturnForm(FlaskForm):
    note = TextAreaField(
        _l("Begründung"), validators=[DataRequired(_l("Bitte begründen Sie die Entscheidung.")), Length(max=500)]
    )


class DayForm(FlaskForm):
    class Meta:
        csrf = False

    datum = DateField(_l("Tag"), validators=[DataRequired(_l("Geben Sie einen Tag an, z. B. 2026-11-27."))])


class ExportForm(FlaskForm):
    datum = HiddenField(validators=[DataRequired()])


def _show(form: FlaskForm, error: PaymentError) -> None:
    field = getattr(form, error.field, None)
    if field is not None and hasattr(field, "errors") and not isinstance(field, HiddenField):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


# --- statements -------------------------------------------------------------------------------------------


@bp.route("/kontoauszuege", methods=["GET", "POST"])
@treasury_only
def statement_list():
    actor = current_actor()
    form = StatementForm()
    status = 200
    if form.validate_on_submit():
        upload = form.statement.data
        data = upload.stream.read(statements.MAX_BYTES + 1)
        try:
            result = statements.import_statement(actor, upload.filename or "", data)
        except PaymentError as error:
            _show(form, error)
            status = 422
        else:
            flash(
                _(
                    "Kontoauszug importiert: %(new)s neue Buchungen, davon %(matched)s automatisch zugeordnet und "
                    "%(unmatched)s offen; %(duplicates)s waren schon importiert.",
                    new=result.new,
                    matched=result.matched,
                    unmatched=result.unmatched,
                    duplicates=result.duplicates,
                ),
                "success",
            )
            return redirect(url_for(".statement_detail", statement_id=result.statement_id), 303)
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "payments/reconciliation/statements.html",
            form=form,
            imported=statements.list_statements(actor),
            unmatched_count=statements.count_unmatched(actor),
            max_mb=statements.MAX_BYTES // (1024 * 1024),
            max_lines=statements.MAX_LINES,
        ),
        status,
    )


@bp.get("/kontoauszuege/<int:statement_id>")
@treasury_only
def statement_detail(statement_id: int):
    statement = statements.get_statement(current_actor(), statement_id)
    if statement is None:
        abort(404)
    return render_template(
        "payments/reconciliation/statement.html",
        statement=statement,
        reasons=reason_labels(),
        statuses=status_labels(),
    )


@bp.get("/kontoauszuege/offen")
@treasury_only
def unmatched():
    return render_template(
        "payments/reconciliation/unmatched.html",
        lines=statements.unmatched_lines(current_actor()),
        reasons=reason_labels(),
    )


def _line_page(line_id: int, assign_form: AssignForm | None = None, return_form: ReturnForm | None = None) -> Any:
    actor = current_actor()
    line = statements.get_line(actor, line_id)
    if line is None:
        abort(404)
    in_query = "kassenzeichen" in request.args
    search = SearchForm(request.args if in_query else None)
    if not in_query:  # the number found in the text, or the one a refused assignment tried
        tried = assign_form.kassenzeichen.data if assign_form is not None else None
        search.kassenzeichen.data = tried or line.kassenzeichen or ""
    query = (search.kassenzeichen.data or "").strip()[:40]
    found = statements.find_payment(actor, query) if query else None
    if assign_form is None:
        assign_form = AssignForm(formdata=None)
    if found is not None:
        assign_form.kassenzeichen.data = found.kassenzeichen
    return render_template(
        "payments/reconciliation/line.html",
        line=line,
        search=search,
        searched=bool(query),
        found=found,
        assign_form=assign_form,
        return_form=return_form or ReturnForm(formdata=None),
        reasons=reason_labels(),
        statuses=status_labels(),
    )


@bp.get("/kontoauszuege/posten/<int:line_id>")
@treasury_only
def line_detail(line_id: int):
    return _line_page(line_id)


@bp.post("/kontoauszuege/posten/<int:line_id>/zuordnen")
@treasury_only
def assign(line_id: int):
    form = AssignForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.kassenzeichen.errors:
            abort(400)
        return _line_page(line_id, assign_form=form), 422
    try:
        line = statements.assign_line(current_actor(), line_id, form.kassenzeichen.data or "", form.note.data)
    except PaymentError as error:
        if error.status == 404:
            abort(404)
        _show(form, error)
        return _line_page(line_id, assign_form=form), error.status
    flash(
        _("Die Überweisung ist der Zahlung %(kz)s zugeordnet; sie gilt jetzt als bezahlt.", kz=line.kassenzeichen),
        "success",
    )
    return redirect(url_for(".unmatched"), 303)


@bp.post("/kontoauszuege/posten/<int:line_id>/zurueck")
@treasury_only
def mark_returned(line_id: int):
    form = ReturnForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _line_page(line_id, return_form=form), 422
    try:
        statements.mark_returned(current_actor(), line_id, form.note.data or "")
    except PaymentError as error:
        if error.status == 404:
            abort(404)
        _show(form, error)
        return _line_page(line_id, return_form=form), error.status
    flash(_("Der Posten ist als „nicht unsere / zur Rücküberweisung“ markiert."), "success")
    return redirect(url_for(".unmatched"), 303)


# --- the day's close --------------------------------------------------------------------------------------


def _today() -> date:
    return to_berlin(utcnow()).date()


@bp.get("/tagesabschluss")
@treasury_only
def day():
    form = DayForm(request.args if "datum" in request.args else None)
    report = None
    status = 200
    if "datum" not in request.args:
        form.datum.data = _today()
    if "datum" not in request.args or form.validate():
        try:
            report = reconciliation.day_report(current_actor(), form.datum.data or _today())
        except PaymentError as error:
            _show(form, error)
            status = 422
    else:
        status = 422
    export_form = ExportForm(formdata=None)
    if report is not None:
        export_form.datum.data = report.day.isoformat()
    return (
        render_template(
            "payments/reconciliation/day.html",
            form=form,
            report=report,
            export_form=export_form,
            outstanding_limit=reconciliation.OUTSTANDING_LIMIT,
        ),
        status,
    )


@bp.post("/tagesabschluss/export")
@treasury_only
def export():
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        day = date.fromisoformat(form.datum.data or "")
        body = reconciliation.export_csv(current_actor(), day)
    except (ValueError, PaymentError):
        abort(400)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="tagesabschluss-{day.isoformat()}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
