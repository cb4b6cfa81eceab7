"""Staff pages at /admin/datenzugriff: the catalogue (datasets and fields: the owning data steward; purposes
and legal bases: the dpo), access agreements (drafted by the consuming department, approved on the core's
/admin/freigaben pages by the owning data steward and the dpo) and break-glass (an official's emergency access).

The routes admit the roles that can use them; which dataset, agreement or session a person may see or change
is decided in the services (a clerk of another department gets 403 there).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectChoice

from dataaccess.errors import AccessRefused, DataAccessError
from dataaccess.models import AccessAgreement, AgreementState, Dataset
from dataaccess.services import agreements, breakglass, catalogue, overview
from dataaccess.services.agreements import AgreementTerms
from dataaccess.services.common import is_dpo, is_steward_of, today
from dataaccess.staff_forms import (
    AgreementForm,
    AgreementStartForm,
    BreakGlassForm,
    BreakGlassReadForm,
    DatasetForm,
    FieldForm,
    LegalBasisForm,
    PurposeForm,
    RevokeForm,
    SubmitForm,
)
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm
from portal.timeutil import to_berlin, utcnow

bp = Blueprint("dataaccess_staff", __name__, url_prefix="/admin/datenzugriff")

STEWARD = ("data_steward",)
CATALOGUE_READERS = ("data_steward", "dpo")
DPO = ("dpo",)
DRAFTERS = agreements.DRAFTER_ROLES
REVOKERS = ("data_steward", "dpo")


def state_labels() -> dict[str, str]:
    return {
        "draft": _("Entwurf"),
        "submitted": _("zur Freigabe vorgelegt"),
        "approved": _("freigegeben, in Kraft"),
        "not_in_force": _("freigegeben, noch nicht in Kraft"),
        "expired": _("abgelaufen"),
        "rejected": _("abgelehnt"),
        "revoked": _("widerrufen"),
        "superseded": _("durch neuere Version ersetzt"),
    }


def refusal_labels() -> dict[str, str]:
    """The refusal codes of dataaccess.services.access.read, in words."""
    return {
        "agreement_required": _("keine Vereinbarung angegeben"),
        "no_agreement": _("Vereinbarung unbekannt"),
        "not_approved": _("Vereinbarung nicht freigegeben"),
        "not_in_force": _("Vereinbarung noch nicht in Kraft"),
        "expired": _("Vereinbarung abgelaufen"),
        "revoked": _("Vereinbarung widerrufen"),
        "superseded": _("Vereinbarung durch neuere Version ersetzt"),
        "wrong_department": _("liest nicht für das berechtigte Amt"),
        "invalid_subject": _("betroffene Person ungültig angegeben"),
        "unknown_subject": _("betroffene Person unbekannt"),
        "purpose_required": _("kein Zweck angegeben"),
        "purpose_not_allowed": _("Zweck nicht erlaubt"),
        "fields_required": _("keine Felder angegeben"),
        "field_not_allowed": _("Feld nicht erlaubt"),
        "invalid_input": _("ungültige Angabe"),
        "case_reference_required": _("Aktenzeichen fehlt"),
        "citizen_request_missing": _("Antrag der Person fehlt"),
        "rate_limited": _("zu viele Abrufe"),
        "breakglass_unknown": _("Notfallzugriff unbekannt"),
        "breakglass_not_yours": _("Notfallzugriff einer anderen Person"),
        "breakglass_expired": _("Notfallzugriff abgelaufen oder beendet"),
    }


def show_error(form: FlaskForm, error: DataAccessError) -> None:
    """The service's refusal next to its field, or as a message when no field of the form fits."""
    if error.field in form:
        field = form[error.field]
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


def _choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, str(label)) for value, label in pairs]


def _status(form: FlaskForm) -> int:
    return 422 if form.errors else 200


# --- overview ---------------------------------------------------------------------------------------------


@bp.get("/")
@access.staff
def index():
    actor = current_actor()
    return render_template(
        "dataaccess/staff/index.html",
        steward_departments=overview.steward_departments(actor),
        drafter_departments=overview.drafter_departments(actor),
        is_dpo=is_dpo(actor),
        may_breakglass=bool(breakglass.departments_for(actor)),
        own_sessions=breakglass.own_sessions(actor, limit=5),
        findings=breakglass.FINDINGS,
        category_label=breakglass.category_label,
    )


# --- datasets and fields (the owning data steward; the dpo reads) --------------------------------------------


@bp.get("/datenbestaende")
@access.roles(*CATALOGUE_READERS)
def datasets():
    actor = current_actor()
    return render_template(
        "dataaccess/staff/datasets.html",
        datasets=overview.visible_datasets(actor),
        may_create=bool(overview.steward_departments(actor)),
        subject_kinds=catalogue.SUBJECT_KINDS,
    )


def _dataset_form(actor: Any, dataset: Dataset | None) -> DatasetForm:
    form = DatasetForm(obj=dataset) if dataset is not None else DatasetForm()
    form.subject_kind.choices = _choices([(k, str(v)) for k, v in catalogue.SUBJECT_KINDS.items()])
    if dataset is None:
        form.department_id.choices = _choices([(d.id, d.name) for d in overview.steward_departments(actor)])
        del form.active
    else:
        # The key, owner and subject kind never change: agreements and records point at them.
        del form.department_id, form.key, form.subject_kind
    return form


@bp.route("/datenbestaende/neu", methods=["GET", "POST"])
@access.roles(*STEWARD)
def dataset_new():
    actor = current_actor()
    form = _dataset_form(actor, None)
    if not form.department_id.choices:
        abort(403)
    if form.validate_on_submit():
        try:
            dataset = catalogue.create_dataset(
                actor,
                department_id=form.department_id.data,
                key=form.key.data or "",
                name=form.name.data or "",
                retention_days=form.retention_days.data or 0,
                subject_kind=form.subject_kind.data or "",
                description=form.description.data or "",
            )
        except DataAccessError as error:
            show_error(form, error)
        else:
            flash(
                _("Der Datenbestand „%(name)s“ ist angelegt. Legen Sie jetzt seine Felder an.", name=dataset.name),
                "success",
            )
            return redirect(url_for("dataaccess_staff.dataset_edit", dataset_id=dataset.id), 303)
    return render_template("dataaccess/staff/dataset_form.html", form=form, dataset=None), _status(form)


@bp.route("/datenbestaende/<int:dataset_id>", methods=["GET", "POST"])
@access.roles(*CATALOGUE_READERS)
def dataset_edit(dataset_id: int):
    actor = current_actor()
    dataset = overview.dataset_for(actor, dataset_id)
    may_edit = is_steward_of(actor, dataset.department_id)
    form = _dataset_form(actor, dataset)
    if request.method == "POST":
        if not may_edit:
            abort(403)
        if form.validate_on_submit():
            try:
                catalogue.update_dataset(
                    actor,
                    dataset.id,
                    name=form.name.data or "",
                    description=form.description.data or "",
                    retention_days=form.retention_days.data or 0,
                    active=bool(form.active.data),
                )
            except DataAccessError as error:
                show_error(form, error)
            else:
                flash(_("Der Datenbestand „%(name)s“ ist gespeichert.", name=dataset.name), "success")
                return redirect(url_for("dataaccess_staff.dataset_edit", dataset_id=dataset.id), 303)
    return render_template(
        "dataaccess/staff/dataset_form.html",
        form=form,
        dataset=dataset,
        may_edit=may_edit,
        categories=catalogue.CATEGORIES,
        subject_kinds=catalogue.SUBJECT_KINDS,
    ), _status(form)


def _field_form(field: Any = None) -> FieldForm:
    form = FieldForm(obj=field) if field is not None else FieldForm()
    form.category.choices = _choices([(k, str(v)) for k, v in catalogue.CATEGORIES.items()])
    return form


def _save_field(actor: Any, dataset: Dataset, form: FieldForm, name: str) -> Any:
    try:
        catalogue.save_field(
            actor,
            dataset.id,
            name=name,
            label=form.label.data or "",
            category=form.category.data or "",
            special_category=bool(form.special_category.data),
        )
    except DataAccessError as error:
        show_error(form, error)
        return None
    flash(_("Das Feld „%(name)s“ ist gespeichert.", name=name.strip().lower()), "success")
    return redirect(url_for("dataaccess_staff.dataset_edit", dataset_id=dataset.id), 303)


@bp.route("/datenbestaende/<int:dataset_id>/felder/neu", methods=["GET", "POST"])
@access.roles(*STEWARD)
def field_new(dataset_id: int):
    actor = current_actor()
    dataset = overview.dataset_for(actor, dataset_id)
    if not is_steward_of(actor, dataset.department_id):
        abort(403)
    form = _field_form()
    if form.validate_on_submit():
        if (form.name.data or "").strip().lower() in dataset.field_names:
            form.name.errors = [*form.name.errors, _("Dieses Feld gibt es schon. Bearbeiten Sie es in der Liste.")]
        elif (done := _save_field(actor, dataset, form, form.name.data or "")) is not None:
            return done
    return render_template("dataaccess/staff/field_form.html", form=form, dataset=dataset, field=None), _status(form)


@bp.route("/datenbestaende/<int:dataset_id>/felder/<name>", methods=["GET", "POST"])
@access.roles(*STEWARD)
def field_edit(dataset_id: int, name: str):
    actor = current_actor()
    dataset = overview.dataset_for(actor, dataset_id)
    if not is_steward_of(actor, dataset.department_id):
        abort(403)
    field = next((f for f in dataset.fields if f.name == name), None)
    if field is None:
        abort(404)
    form = _field_form(field)
    del form.name  # agreements name the field: it keeps its name
    if form.validate_on_submit() and (done := _save_field(actor, dataset, form, field.name)) is not None:
        return done
    return render_template("dataaccess/staff/field_form.html", form=form, dataset=dataset, field=field), _status(form)


# --- purposes and legal bases (the dpo) --------------------------------------------------------------------


@bp.get("/zwecke")
@access.roles(*DPO)
def purposes():
    return render_template(
        "dataaccess/staff/purposes.html",
        purposes=catalogue.purposes(active_only=False),
        bases=catalogue.legal_bases(active_only=False),
    )


def _save_purpose(form: PurposeForm, code: str) -> Any:
    try:
        purpose = catalogue.save_purpose(
            current_actor(),
            code=code,
            label=form.label.data or "",
            description=form.description.data or "",
            active=bool(form.active.data),
        )
    except DataAccessError as error:
        show_error(form, error)
        return None
    flash(_("Der Zweck %(code)s ist gespeichert.", code=purpose.code), "success")
    return redirect(url_for("dataaccess_staff.purposes"), 303)


@bp.route("/zwecke/neu", methods=["GET", "POST"])
@access.roles(*DPO)
def purpose_new():
    form = PurposeForm()
    if form.validate_on_submit():
        code = (form.code.data or "").strip().upper()
        if any(p.code == code for p in catalogue.purposes(active_only=False)):
            form.code.errors = [*form.code.errors, _("Diesen Code gibt es schon.")]
        elif (done := _save_purpose(form, form.code.data or "")) is not None:
            return done
    return render_template("dataaccess/staff/purpose_form.html", form=form, purpose=None), _status(form)


@bp.route("/zwecke/<code>", methods=["GET", "POST"])
@access.roles(*DPO)
def purpose_edit(code: str):
    purpose = next((p for p in catalogue.purposes(active_only=False) if p.code == code), None)
    if purpose is None:
        abort(404)
    form = PurposeForm(obj=purpose)
    del form.code  # agreements and the log name the purpose by its code
    if form.validate_on_submit() and (done := _save_purpose(form, purpose.code)) is not None:
        return done
    return render_template("dataaccess/staff/purpose_form.html", form=form, purpose=purpose), _status(form)


def _save_basis(form: LegalBasisForm, basis_id: int | None) -> Any:
    try:
        basis = catalogue.save_legal_basis(
            current_actor(),
            label=form.label.data or "",
            citation=form.citation.data or "",
            active=bool(form.active.data),
            legal_basis_id=basis_id,
        )
    except DataAccessError as error:
        show_error(form, error)
        return None
    flash(_("Die Rechtsgrundlage „%(label)s“ ist gespeichert.", label=basis.label), "success")
    return redirect(url_for("dataaccess_staff.purposes"), 303)


@bp.route("/rechtsgrundlagen/neu", methods=["GET", "POST"])
@access.roles(*DPO)
def basis_new():
    form = LegalBasisForm()
    if form.validate_on_submit() and (done := _save_basis(form, None)) is not None:
        return done
    return render_template("dataaccess/staff/basis_form.html", form=form, basis=None), _status(form)


@bp.route("/rechtsgrundlagen/<int:basis_id>", methods=["GET", "POST"])
@access.roles(*DPO)
def basis_edit(basis_id: int):
    basis = next((b for b in catalogue.legal_bases(active_only=False) if b.id == basis_id), None)
    if basis is None:
        abort(404)
    form = LegalBasisForm(obj=basis)
    if form.validate_on_submit() and (done := _save_basis(form, basis.id)) is not None:
        return done
    return render_template("dataaccess/staff/basis_form.html", form=form, basis=basis), _status(form)


# --- agreements -------------------------------------------------------------------------------------------


@bp.get("/vereinbarungen")
@access.staff
def agreement_list():
    actor = current_actor()
    state = request.args.get("state") or None
    if state not in (None, *overview.STATE_FILTERS):
        state = None
    department_id = request.args.get("department", type=int)
    return render_template(
        "dataaccess/staff/agreements.html",
        agreements=overview.visible_agreements(actor, state=state, department_id=department_id),
        state=state,
        department_id=department_id,
        states=overview.STATE_FILTERS,
        departments=overview.all_departments() if is_dpo(actor) else overview.member_departments(actor),
        state_labels=state_labels(),
        today=today(),
        may_draft=bool(overview.drafter_departments(actor)),
    )


def _agreement_form(dataset: Dataset, agreement: AccessAgreement | None = None) -> AgreementForm:
    form = AgreementForm(obj=agreement) if agreement is not None else AgreementForm()
    form.fields.choices = _choices(
        [
            (f.name, f"{f.label} ({f.name})" + (" – " + _("besondere Kategorie") if f.special_category else ""))
            for f in dataset.fields
        ]
    )
    offered = catalogue.purposes()
    form.purposes.choices = _choices([(p.code, f"{p.code} – {p.label}") for p in offered])
    form.legal_basis_id.choices = _choices([(b.id, f"{b.label}: {b.citation}") for b in catalogue.legal_bases()])
    if agreement is None and request.method == "GET":
        form.valid_from.data = today()
        form.valid_to.data = today() + timedelta(days=365)
    return form


def _terms(form: AgreementForm, consumer_department_id: int, dataset_id: int) -> AgreementTerms:
    return AgreementTerms(
        consumer_department_id=consumer_department_id,
        dataset_id=dataset_id,
        fields=list(form.fields.data or []),
        purposes=list(form.purposes.data or []),
        legal_basis_id=form.legal_basis_id.data,  # type: ignore[arg-type]  # InputRequired
        valid_from=form.valid_from.data,  # type: ignore[arg-type]
        valid_to=form.valid_to.data,  # type: ignore[arg-type]
        requires_case_reference=bool(form.requires_case_reference.data),
        requires_citizen_request=bool(form.requires_citizen_request.data),
        rate_limit_per_hour=form.rate_limit_per_hour.data or 0,
        note=form.note.data or "",
    )


@bp.route("/vereinbarungen/neu", methods=["GET", "POST"])
@access.roles(*DRAFTERS)
def agreement_new():
    actor = current_actor()
    start = AgreementStartForm(MultiDict(request.args))
    start.consumer_department_id.choices = _choices([(d.id, d.name) for d in overview.drafter_departments(actor)])
    if not start.consumer_department_id.choices:
        abort(403)
    datasets = overview.offered_datasets()
    start.dataset_id.choices = _choices([(d.id, f"{d.name} ({d.department.name})") for d in datasets])
    if not request.args or not start.validate():
        status = 422 if request.args and start.errors else 200
        return render_template("dataaccess/staff/agreement_start.html", start=start), status
    dataset = next(d for d in datasets if d.id == start.dataset_id.data)
    consumer_id = int(start.consumer_department_id.data)  # type: ignore[arg-type]
    form = _agreement_form(dataset)
    if form.validate_on_submit():
        try:
            agreement = agreements.draft_agreement(actor, _terms(form, consumer_id, dataset.id))
        except DataAccessError as error:
            show_error(form, error)
            if error.field in ("consumer_department_id", "dataset_id"):
                start.dataset_id.errors = [*start.dataset_id.errors, error.message]
        else:
            flash(
                _(
                    "Der Entwurf %(ref)s ist gespeichert. Prüfen Sie ihn und legen Sie ihn zur Freigabe vor.",
                    ref=agreement.reference,
                ),
                "success",
            )
            return redirect(url_for("dataaccess_staff.agreement_detail", agreement_id=agreement.id), 303)
    consumer = next(d for d in overview.drafter_departments(actor) if d.id == consumer_id)
    return render_template(
        "dataaccess/staff/agreement_form.html",
        form=form,
        start=start,
        dataset=dataset,
        consumer=consumer,
        agreement=None,
    ), 422 if form.errors or start.errors else 200


def _detail(agreement_id: int, submit_form: SubmitForm | None = None, status: int = 200) -> Any:
    actor = current_actor()
    agreement = overview.agreement_for(actor, agreement_id)
    versions = agreements.versions(agreement.reference)
    approvals = overview.approvals_of(agreement)
    people = overview.people(
        [agreement.created_by_id, agreement.requested_by_id, agreement.steward_approved_by_id,
         agreement.dpo_approved_by_id, agreement.ended_by_id]
    )  # fmt: skip
    may_draft = agreements.may_draft(actor, agreement.consumer_department_id)
    open_version = any(v.state in (AgreementState.DRAFT, AgreementState.SUBMITTED) for v in versions)
    return render_template(
        "dataaccess/staff/agreement.html",
        agreement=agreement,
        versions=versions,
        approvals=approvals,
        people=people,
        status_now=agreement.status_on(today()),
        state_labels=state_labels(),
        purposes=catalogue.purposes_by_code(list(agreement.purposes)),
        fields={f.name: f for f in agreement.dataset.fields},
        may_draft=may_draft,
        may_new_version=may_draft and not open_version,
        may_revoke=agreements.may_revoke(actor, agreement) and agreement.state == AgreementState.APPROVED,
        submit_form=submit_form or SubmitForm(),
        confirm_form=ConfirmForm(),
    ), status


@bp.get("/vereinbarungen/<int:agreement_id>")
@access.staff
def agreement_detail(agreement_id: int):
    return _detail(agreement_id)


@bp.route("/vereinbarungen/<int:agreement_id>/bearbeiten", methods=["GET", "POST"])
@access.roles(*DRAFTERS)
def agreement_edit(agreement_id: int):
    actor = current_actor()
    agreement = overview.agreement_for(actor, agreement_id)
    if not agreements.may_draft(actor, agreement.consumer_department_id):
        abort(403)
    if agreement.state != AgreementState.DRAFT:
        flash(_("Eingereichte Vereinbarungen werden nicht geändert. Legen Sie eine neue Version an."), "danger")
        return redirect(url_for("dataaccess_staff.agreement_detail", agreement_id=agreement.id), 303)
    form = _agreement_form(agreement.dataset, agreement)
    if form.validate_on_submit():
        try:
            agreements.update_draft(
                actor, agreement.id, _terms(form, agreement.consumer_department_id, agreement.dataset_id)
            )
        except DataAccessError as error:
            show_error(form, error)
        else:
            flash(_("Der Entwurf %(label)s ist gespeichert.", label=agreement.label), "success")
            return redirect(url_for("dataaccess_staff.agreement_detail", agreement_id=agreement.id), 303)
    return render_template(
        "dataaccess/staff/agreement_form.html",
        form=form,
        start=None,
        dataset=agreement.dataset,
        consumer=agreement.consumer_department,
        agreement=agreement,
    ), _status(form)


@bp.post("/vereinbarungen/<int:agreement_id>/einreichen")
@access.roles(*DRAFTERS)
def agreement_submit(agreement_id: int):
    form = SubmitForm()
    if not form.validate_on_submit():
        return _detail(agreement_id, form, 422)
    try:
        agreement = agreements.submit(current_actor(), agreement_id, form.reason.data or "")
    except DataAccessError as error:
        if error.field == "reason":
            show_error(form, error)
            return _detail(agreement_id, form, 422)
        flash(error.message, "danger")
        return redirect(url_for("dataaccess_staff.agreement_detail", agreement_id=agreement_id), 303)
    flash(
        _(
            "%(label)s ist zur Freigabe vorgelegt. Die Datenverantwortung des Amts, dem die Daten gehören, und die "
            "Datenschutzbeauftragte Person entscheiden unter „Freigaben“.",
            label=agreement.label,
        ),
        "success",
    )
    return redirect(url_for("dataaccess_staff.agreement_detail", agreement_id=agreement_id), 303)


@bp.post("/vereinbarungen/<int:agreement_id>/neue-version")
@access.roles(*DRAFTERS)
def agreement_new_version(agreement_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        draft = agreements.new_version(current_actor(), agreement_id)
    except DataAccessError as error:
        flash(error.message, "danger")
        return redirect(url_for("dataaccess_staff.agreement_detail", agreement_id=agreement_id), 303)
    flash(_("Version %(v)s ist als Entwurf angelegt. Ändern Sie, was sich ändern soll.", v=draft.version), "success")
    return redirect(url_for("dataaccess_staff.agreement_edit", agreement_id=draft.id), 303)


@bp.route("/vereinbarungen/<int:agreement_id>/widerrufen", methods=["GET", "POST"])
@access.roles(*REVOKERS)
def agreement_revoke(agreement_id: int):
    actor = current_actor()
    agreement = overview.agreement_for(actor, agreement_id)
    if not agreements.may_revoke(actor, agreement):
        abort(403)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            agreements.revoke(actor, agreement.id, form.reason.data or "")
        except DataAccessError as error:
            show_error(form, error)
        else:
            flash(
                _("%(label)s ist widerrufen. Abrufe darauf werden ab sofort abgelehnt.", label=agreement.label),
                "success",
            )
            return redirect(url_for("dataaccess_staff.agreement_detail", agreement_id=agreement.id), 303)
    return render_template("dataaccess/staff/agreement_revoke.html", form=form, agreement=agreement), _status(form)


# --- break-glass (an official of the consuming department) --------------------------------------------------


def _breakglass_form(actor: Any) -> BreakGlassForm:
    form = BreakGlassForm()
    departments = breakglass.departments_for(actor)
    form.department_id.choices = _choices([(d.id, d.name) for d in departments])
    form.dataset_id.choices = _choices(
        [(d.id, f"{d.name} ({d.department.name})") for d in breakglass.datasets_for([d.id for d in departments])]
    )
    form.category.choices = _choices([(k, str(v)) for k, v in breakglass.CATEGORIES.items()])
    return form


@bp.route("/notfall", methods=["GET", "POST"])
@access.staff
def breakglass_new():
    actor = current_actor()
    form = _breakglass_form(actor)
    if not form.department_id.choices:
        abort(403)
    if form.validate_on_submit():
        try:
            session = breakglass.open_session(
                actor,
                department_id=form.department_id.data,
                dataset_id=form.dataset_id.data,
                category=form.category.data,
                reason=form.reason.data or "",
                case_reference=form.case_reference.data or None,
            )
        except DataAccessError as error:
            show_error(form, error)
        else:
            flash(
                _(
                    "Der Notfallzugriff ist geöffnet, bis %(time)s Uhr. Die Datenverantwortung und die "
                    "Datenschutzbeauftragte Person sind benachrichtigt.",
                    time=_berlin_time(session.expires_at),
                ),
                "success",
            )
            return redirect(url_for("dataaccess_staff.breakglass_detail", session_id=session.id), 303)
    return render_template(
        "dataaccess/staff/breakglass_new.html",
        form=form,
        minutes=breakglass.minutes(),
        sessions=breakglass.own_sessions(actor),
        findings=breakglass.FINDINGS,
        category_label=breakglass.category_label,
    ), _status(form)


def _berlin_time(value: Any) -> str:
    return to_berlin(value).strftime("%H:%M")


def _read_form(session: Any) -> BreakGlassReadForm:
    form = BreakGlassReadForm()
    form.fields.choices = _choices([(f.name, f"{f.label} ({f.name})") for f in session.dataset.fields])
    return form


def _session_page(
    session_id: int, form: BreakGlassReadForm | None = None, result: Any = None, status: int = 200
) -> Any:
    actor = current_actor()
    session = breakglass.get_session_for(actor, session_id)
    own = actor.user is not None and actor.user.id == session.user_id
    return render_template(
        "dataaccess/staff/breakglass.html",
        session=session,
        own=own,
        active=session.is_active(utcnow()),
        remaining=breakglass.remaining_minutes(session),
        reads=breakglass.reads_of(actor, session.id),
        form=form or _read_form(session),
        result=result,
        category_label=breakglass.category_label,
        findings=breakglass.FINDINGS,
        is_dpo=is_dpo(actor),
        people=overview.people([session.user_id, session.reviewed_by_id]),
        end_form=ConfirmForm(),
        refusal_labels=refusal_labels(),
    ), status


@bp.get("/notfall/<int:session_id>")
@access.staff
def breakglass_detail(session_id: int):
    return _session_page(session_id)


@bp.post("/notfall/<int:session_id>")
@access.staff
def breakglass_read(session_id: int):
    actor = current_actor()
    session = breakglass.get_session_for(actor, session_id)
    if actor.user is None or actor.user.id != session.user_id:
        abort(403)
    form = _read_form(session)
    if not form.validate_on_submit():
        return _session_page(session_id, form, status=422)
    try:
        result = breakglass.read(
            actor, session.id, form.subject.data or "", list(form.fields.data or []), form.case_reference.data or None
        )
    except AccessRefused as refused:
        show_error(form, refused)
        return _session_page(session_id, form, status=refused.status)
    # The records are shown once, on this response; nothing of them is kept in the session or a redirect.
    return _session_page(session_id, _read_form(session), result=result)


@bp.post("/notfall/<int:session_id>/beenden")
@access.staff
def breakglass_end(session_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    breakglass.end_session(current_actor(), session_id)
    flash(_("Der Notfallzugriff ist beendet."), "success")
    return redirect(url_for("dataaccess_staff.breakglass_detail", session_id=session_id), 303)
