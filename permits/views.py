"""HTML pages of the permits service for applicants: the start page, the fee calculator, "Meine Anträge" and a
case's page (state, fee, documents, answering a request for documents, withdrawing).

The draft's task list and its sections live in views_apply.py, check answers and submission in views_check.py,
on the same blueprint.
A case is looked up through the service with the current actor (the person, or the business they act for), so
somebody else's case is a 404 like an unknown one.
"""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields import SelectChoice

from permits import attachments, forms, history, rules
from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import DocumentKind, PermitApplication, PermitState
from permits.services import (
    advice,
    applications,
    catalogue,
    consultation,
    decisions,
    drafts,
    extensions,
    fee_payments,
    quotes,
)
from permits.services.fees import Fee
from portal import access
from portal.actors import current_actor
from portal.files.errors import FileError, FileNotFound
from portal.files.services import delete_file, download_url, store_upload
from portal.files.views import content_disposition
from portal.forms import ConfirmForm
from portal.timeutil import to_berlin

bp = Blueprint("permits", __name__, url_prefix="/sondernutzung")
S = PermitState

STATE_TEXT: dict[str, Any] = {
    S.DRAFT: _l("Entwurf – noch nicht eingereicht"),
    S.SUBMITTED: _l("Eingegangen"),
    S.FORMAL_CHECK: _l("Wird auf Vollständigkeit geprüft"),
    S.DOCUMENTS_REQUESTED: _l("Unterlagen nachreichen"),
    S.CONSULTATION: _l("Andere Ämter werden beteiligt"),
    S.GRANTED: _l("Erlaubt"),
    S.REFUSED: _l("Abgelehnt"),
    S.FEE_NOTICE: _l("Gebührenbescheid versandt – Zahlung offen"),
    S.PAID: _l("Bezahlt"),
    S.ACTIVE: _l("Erlaubnis gilt"),
    S.EXTENDED: _l("Erlaubnis verlängert"),
    S.ENDED: _l("Beendet"),
    S.REVOKED: _l("Widerrufen"),
    S.WITHDRAWN: _l("Zurückgezogen"),
}
STATE_BADGE = {
    S.DRAFT: "info",
    S.DOCUMENTS_REQUESTED: "warning",
    S.FEE_NOTICE: "warning",
    S.REFUSED: "danger",
    S.REVOKED: "danger",
    S.GRANTED: "success",
    S.PAID: "success",
    S.ACTIVE: "success",
    S.EXTENDED: "success",
}


def _locale() -> str:
    return str(get_locale() or "de")


def euro(cents: int) -> str:
    """3940 -> "39,40 €"."""
    sign = "−" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return sign + f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


def day(value: date | None) -> str:
    """1. Juni 2026"""
    if value is None:
        return "–"
    return format_date(value, _("d. MMMM y"), locale=_locale())


def area_text(area_dm2: int | None) -> str:
    if area_dm2 is None:
        return "–"
    return f"{Decimal(area_dm2) / 100:.2f}".replace(".", ",") + " m²"


def metres(cm: int | None) -> str:
    if cm is None:
        return ""
    return f"{Decimal(cm) / 100:.2f}".replace(".", ",")


@bp.record_once
def _template_helpers(state: Any) -> None:
    # Globals rather than a context processor: mail templates and imported macros see them too.
    state.app.jinja_env.globals.update(
        snu_euro=euro,
        snu_day=day,
        snu_day_of=lambda moment: day(to_berlin(moment).date()) if moment is not None else "–",
        snu_moment=lambda moment: to_berlin(moment).strftime("%d.%m.%Y %H:%M") if moment is not None else "–",
        snu_area=area_text,
        snu_state=lambda value: str(STATE_TEXT.get(value, value)),
        snu_status=status_text,
        snu_event=history.label,
        snu_removable=drafts.removable,
        snu_badge=lambda value: STATE_BADGE.get(value, "info"),
        snu_kind=attachments.label,
        snu_verdict=lambda value: str(VERDICT_TEXT.get(value, value)),
        snu_download=download_url,
    )


def status_text(application: PermitApplication) -> str:
    """The state as people read it; a permit paid (or exempt) before its first day says from when it applies."""
    from permits.services import lifecycle

    if lifecycle.starts_later(application):
        if application.state == S.PAID:
            return str(_l("Erteilt und bezahlt – gilt ab %(day)s", day=day(application.valid_from)))
        if application.state == S.GRANTED and not application.fee_cents:
            return str(_l("Erteilt, gebührenfrei – gilt ab %(day)s", day=day(application.valid_from)))
    return str(STATE_TEXT.get(application.state, application.state))


def load(public_id: str) -> PermitApplication:
    """The applicant's case, or 404 (unknown and not yours look the same). Clerks, who may see every case, work
    on their own pages: these are the applicant's, with the applicant's buttons."""
    actor = current_actor()
    try:
        application = applications.get_application(actor, public_id)
    except PermitNotFound:
        abort(404)
    if not rules.is_owner(actor, application):
        abort(404)
    return application


def put_errors(form: Any, errors: PermitInvalid, aliases: dict[str, str] | None = None) -> list[str]:
    """The service's field errors next to the form's fields of the same name; returns those with no field."""
    aliases = aliases or {}
    unplaced: list[str] = []
    for name, messages in errors.as_text().items():
        target = getattr(form, aliases.get(name, name), None)
        if target is None or not hasattr(target, "errors"):
            unplaced.extend(messages)
            continue
        target.errors = [*(target.errors or []), *messages]
    return unplaced


def draft_fee(application: PermitApplication) -> Fee | None:
    """What the draft would cost if submitted today; None while use type, street, area or period are missing."""
    if application.use_type is None or application.zone is None or application.area_dm2 is None:
        return None
    if application.starts_on is None or application.ends_on is None:
        return None
    computed = quotes.fee_for(
        PermitInvalid(),
        use_type=application.use_type,
        zone=application.zone,
        area_m2=Decimal(application.area_dm2) / 100,
        first_day=application.setup_from or application.starts_on,
        last_day=application.teardown_until or application.ends_on,
        today=quotes.today_in_berlin(),
        exemption=application.exemption_reason,
    )
    return computed[0] if computed is not None else None


# --- the start page and the fee calculator ----------------------------------------------------------------------


@bp.get("/")
@access.public
def index():
    return render_template(
        "permits/index.html",
        use_types=catalogue.use_types(),
        form=forms.StartForm(),
        exemptions=catalogue.exemption_reasons(),
    )


def _preview_form() -> forms.PreviewForm:
    form = forms.PreviewForm(request.args if request.args else None)
    form.use_type.choices = [SelectChoice("", _("Bitte wählen"))] + [
        SelectChoice(u.code, u.name(_locale())) for u in catalogue.use_types()
    ]
    return form


@bp.get("/gebuehren")
@access.public
def fee_preview():
    form = _preview_form()
    quote = None
    unplaced: list[str] = []
    if request.args and form.validate():
        try:
            quote = quotes.preview(
                form.use_type.data, form.street.data, form.area_m2.data, form.start.data, form.end.data
            )
        except PermitInvalid as errors:
            unplaced = put_errors(form, errors)
    return render_template("permits/fee_preview.html", form=form, quote=quote, problems=unplaced), (
        422 if form.errors or unplaced else 200
    )


# --- starting, listing ------------------------------------------------------------------------------------------


@bp.post("/antrag")
@access.signed_in
def start():
    form = forms.StartForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        application = applications.start_application(current_actor(), form.use_type.data or None)
    except PermitInvalid:
        application = applications.start_application(current_actor())
    return redirect(url_for(".task_list", public_id=application.public_id))


@bp.get("/antraege")
@access.signed_in
def mine():
    cases = applications.applications_of(current_actor())
    return render_template(
        "permits/mine.html",
        drafts=[c for c in cases if c.state == S.DRAFT],
        submitted=[c for c in cases if c.state != S.DRAFT],
        form=forms.StartForm(),
    )


# --- a submitted case -------------------------------------------------------------------------------------------


@bp.get("/antraege/<public_id>")
@access.signed_in
def case(public_id: str):
    application = load(public_id)
    if application.state == S.DRAFT:
        return redirect(url_for(".task_list", public_id=public_id))
    return _case_page(application, forms.UploadForm(formdata=None))


def _case_page(application: PermitApplication, upload_form: forms.UploadForm, status: int = 200):
    return render_template(
        "permits/case.html",
        application=application,
        upload_form=upload_form,
        confirm=ConfirmForm(formdata=None),
        may_withdraw=application.state not in rules.DECIDED and application.state not in (S.WITHDRAWN, S.DRAFT),
        may_extend=application.state in rules.IN_FORCE,
        once_only=consultation.once_only_offer(current_actor(), application),
        payment_path=fee_payments.payment_path(application),
        document_labels=DOCUMENT_LABELS,
        advice=advice.for_applicant(application),
    ), status


VERDICT_TEXT: dict[str, Any] = {
    "agree": _l("Zustimmung"),
    "conditions": _l("Zustimmung mit Auflagen"),
    "object": _l("Einwände"),
}

DOCUMENT_LABELS: dict[str, Any] = {
    DocumentKind.PERMIT: _l("Sondernutzungserlaubnis (PDF)"),
    DocumentKind.REFUSAL: _l("Ablehnungsbescheid (PDF)"),
    DocumentKind.FEE_NOTICE: _l("Gebührenbescheid (PDF)"),
}


def send_document(application: PermitApplication, kind: str) -> Response:
    """A decision document of the case as a PDF download, for whoever the service lets see the case."""
    try:
        document = decisions.get_document(current_actor(), application, kind)
    except PermitNotFound:
        abort(404)
    response = make_response(document.content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = content_disposition(document.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/antraege/<public_id>/bescheid/<kind>.pdf")
@access.signed_in
def document(public_id: str, kind: str):
    return send_document(load(public_id), kind)


@bp.post("/antraege/<public_id>/verlaengern")
@access.signed_in
def extend(public_id: str):
    """One click: a new draft linked to this permit, prefilled; the applicant sets the new end and submits it."""
    application = load(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        draft = extensions.request_extension(current_actor(), application)
    except PermitError as refused:
        flash(str(refused.message), "danger")
        return redirect(url_for(".case", public_id=public_id))
    flash(_("Ihr Verlängerungsantrag ist angelegt. Bitte prüfen Sie den Zeitraum und reichen Sie ihn ein."), "success")
    return redirect(url_for(".task_list", public_id=draft.public_id))


@bp.get("/antraege/<public_id>/eingereicht")
@access.signed_in
def submitted(public_id: str):
    application = load(public_id)
    if application.state == S.DRAFT:
        return redirect(url_for(".task_list", public_id=public_id))
    return render_template("permits/submitted.html", application=application)


def take_upload(application: PermitApplication, form: forms.UploadForm) -> bool:
    """Store the chosen file under its kind's policy and attach it; False (with the error on the form) if refused."""
    kind = attachments.KINDS.get(form.kind.data or "")
    if kind is None:
        form.kind.errors = [_("Bitte wählen Sie, was die Datei enthält.")]
        return False
    actor = current_actor()
    try:
        stored = store_upload(actor, form.file.data, kind.policy, purpose=kind.purpose, field="file")
    except FileError as refused:
        refused.show_on(form)
        return False
    try:
        applications.add_attachment(actor, application, kind.code, stored.key)
    except PermitError as refused:
        _forget(stored.key)
        form.file.errors = [str(refused.message)]
        return False
    except PermitNotFound:
        _forget(stored.key)
        abort(404)
    return True


def _forget(key: str) -> None:
    with contextlib.suppress(FileNotFound):
        delete_file(current_actor(), key)


@bp.post("/antraege/<public_id>/nachreichen")
@access.signed_in
def answer_upload(public_id: str):
    """Answer the department's request for documents: one file at a time, then "Nachreichung abschließen"."""
    application = load(public_id)
    form = forms.UploadForm()
    if application.state != S.DOCUMENTS_REQUESTED:
        flash(_("Zu diesem Antrag werden gerade keine Unterlagen erwartet."), "warning")
        return redirect(url_for(".case", public_id=public_id))
    if form.validate_on_submit() and take_upload(application, form):
        flash(_("Die Datei ist hochgeladen. Schicken Sie die Unterlagen ab, wenn alles dabei ist."), "success")
        return redirect(url_for(".case", public_id=public_id) + "#nachreichen")
    return _case_page(application, form, 422)


@bp.post("/antraege/<public_id>/nachreichung-abschliessen")
@access.signed_in
def answer_done(public_id: str):
    application = load(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        applications.move(current_actor(), application, S.FORMAL_CHECK.value, note="Unterlagen nachgereicht")
    except PermitError as refused:
        flash(str(refused.message), "danger")
    else:
        flash(_("Danke. Das Amt prüft Ihren Antrag mit den neuen Unterlagen weiter."), "success")
    return redirect(url_for(".case", public_id=public_id))


@bp.post("/antraege/<public_id>/zurueckziehen")
@access.signed_in
def withdraw(public_id: str):
    application = load(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        applications.withdraw(current_actor(), application)
    except PermitError as refused:
        flash(str(refused.message), "danger")
    else:
        flash(_("Sie haben den Antrag zurückgezogen."), "success")
    return redirect(url_for(".case", public_id=public_id))


from permits import views_apply, views_tidy  # noqa: E402, F401  (the draft's pages, on the same blueprint)
