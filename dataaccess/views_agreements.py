"""The agreements' staff pages: the list, drafting (the consuming department), submitting, new versions and
revoking (the owning data steward or the dpo). The approvals themselves are decided on the core's
/admin/freigaben pages. Routes on the blueprint of dataaccess.views_staff."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from dataaccess.errors import DataAccessError
from dataaccess.models import AccessAgreement, AgreementState, Dataset
from dataaccess.services import agreements, catalogue, overview
from dataaccess.services.agreements import AgreementTerms
from dataaccess.services.common import is_dpo, today
from dataaccess.staff_forms import AgreementForm, AgreementStartForm, RevokeForm, SubmitForm
from dataaccess.views_staff import (
    bp,
    choices,
    form_status,
    redirect_with,
    saved,
    show_error,
    state_labels,
)
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm

DRAFTERS = agreements.DRAFTER_ROLES
REVOKERS = ("data_steward", "dpo")
DETAIL = "dataaccess_staff.agreement_detail"


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
    form.fields.choices = choices(
        [
            (f.name, f"{f.label} ({f.name})" + (" – " + _("besondere Kategorie") if f.special_category else ""))
            for f in dataset.fields
        ]
    )
    offered = catalogue.purposes()
    form.purposes.choices = choices([(p.code, f"{p.code} – {p.label}") for p in offered])
    form.legal_basis_id.choices = choices([(b.id, f"{b.label}: {b.citation}") for b in catalogue.legal_bases()])
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
    start.consumer_department_id.choices = choices([(d.id, d.name) for d in overview.drafter_departments(actor)])
    if not start.consumer_department_id.choices:
        abort(403)
    datasets = overview.offered_datasets()
    start.dataset_id.choices = choices([(d.id, f"{d.name} ({d.department.name})") for d in datasets])
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
            return redirect_with(
                _(
                    "Der Entwurf %(ref)s ist gespeichert. Prüfen Sie ihn und legen Sie ihn zur Freigabe vor.",
                    ref=agreement.reference,
                ),
                DETAIL,
                agreement_id=agreement.id,
            )
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
        return redirect_with(
            _("Eingereichte Vereinbarungen werden nicht geändert. Legen Sie eine neue Version an."),
            DETAIL,
            "danger",
            agreement_id=agreement.id,
        )
    form = _agreement_form(agreement.dataset, agreement)
    if form.validate_on_submit():
        terms = _terms(form, agreement.consumer_department_id, agreement.dataset_id)
        if saved(form, partial(agreements.update_draft, actor, agreement.id, terms)) is not None:
            return redirect_with(
                _("Der Entwurf %(label)s ist gespeichert.", label=agreement.label), DETAIL, agreement_id=agreement.id
            )
    return render_template(
        "dataaccess/staff/agreement_form.html",
        form=form,
        start=None,
        dataset=agreement.dataset,
        consumer=agreement.consumer_department,
        agreement=agreement,
    ), form_status(form)


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
        return redirect_with(error.message, DETAIL, "danger", agreement_id=agreement_id)
    return redirect_with(
        _(
            "%(label)s ist zur Freigabe vorgelegt. Die Datenverantwortung des Amts, dem die Daten gehören, und die "
            "Datenschutzbeauftragte Person entscheiden unter „Freigaben“.",
            label=agreement.label,
        ),
        DETAIL,
        agreement_id=agreement_id,
    )


@bp.post("/vereinbarungen/<int:agreement_id>/neue-version")
@access.roles(*DRAFTERS)
def agreement_new_version(agreement_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        draft = agreements.new_version(current_actor(), agreement_id)
    except DataAccessError as error:
        return redirect_with(error.message, DETAIL, "danger", agreement_id=agreement_id)
    return redirect_with(
        _("Version %(v)s ist als Entwurf angelegt. Ändern Sie, was sich ändern soll.", v=draft.version),
        "dataaccess_staff.agreement_edit",
        agreement_id=draft.id,
    )


@bp.route("/vereinbarungen/<int:agreement_id>/widerrufen", methods=["GET", "POST"])
@access.roles(*REVOKERS)
def agreement_revoke(agreement_id: int):
    actor = current_actor()
    agreement = overview.agreement_for(actor, agreement_id)
    if not agreements.may_revoke(actor, agreement):
        abort(403)
    form = RevokeForm()
    if (
        form.validate_on_submit()
        and saved(form, partial(agreements.revoke, actor, agreement.id, form.reason.data or "")) is not None
    ):
        return redirect_with(
            _("%(label)s ist widerrufen. Abrufe darauf werden ab sofort abgelehnt.", label=agreement.label),
            DETAIL,
            agreement_id=agreement.id,
        )
    return render_template("dataaccess/staff/agreement_revoke.html", form=form, agreement=agreement), form_status(form)
