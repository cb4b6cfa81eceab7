"""The catalogue's staff pages: datasets and their fields (the owning data steward; the dpo reads), purposes
and legal bases (the dpo). Routes on the blueprint of dataaccess.views_staff."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _

from dataaccess.models import Dataset
from dataaccess.services import catalogue, overview
from dataaccess.services.common import is_steward_of
from dataaccess.staff_forms import DatasetForm, FieldForm, LegalBasisForm, PurposeForm
from dataaccess.views_staff import bp, choices, form_status, redirect_with, saved
from portal import access
from portal.actors import current_actor

STEWARD = ("data_steward",)
CATALOGUE_READERS = ("data_steward", "dpo")
DPO = ("dpo",)


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
    form.subject_kind.choices = choices([(k, str(v)) for k, v in catalogue.SUBJECT_KINDS.items()])
    if dataset is None:
        form.department_id.choices = choices([(d.id, d.name) for d in overview.steward_departments(actor)])
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
        create = partial(
            catalogue.create_dataset,
            actor,
            department_id=form.department_id.data,
            key=form.key.data or "",
            name=form.name.data or "",
            retention_days=form.retention_days.data or 0,
            subject_kind=form.subject_kind.data or "",
            description=form.description.data or "",
        )
        if (dataset := saved(form, create)) is not None:
            return redirect_with(
                _("Der Datenbestand „%(name)s“ ist angelegt. Legen Sie jetzt seine Felder an.", name=dataset.name),
                "dataaccess_staff.dataset_edit",
                dataset_id=dataset.id,
            )
    return render_template("dataaccess/staff/dataset_form.html", form=form, dataset=None), form_status(form)


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
            update = partial(
                catalogue.update_dataset,
                actor,
                dataset.id,
                name=form.name.data or "",
                description=form.description.data or "",
                retention_days=form.retention_days.data or 0,
                active=bool(form.active.data),
            )
            if saved(form, update) is not None:
                return redirect_with(
                    _("Der Datenbestand „%(name)s“ ist gespeichert.", name=dataset.name),
                    "dataaccess_staff.dataset_edit",
                    dataset_id=dataset.id,
                )
    return render_template(
        "dataaccess/staff/dataset_form.html",
        form=form,
        dataset=dataset,
        may_edit=may_edit,
        categories=catalogue.CATEGORIES,
        subject_kinds=catalogue.SUBJECT_KINDS,
    ), form_status(form)


def _field_form(field: Any = None) -> FieldForm:
    form = FieldForm(obj=field) if field is not None else FieldForm()
    form.category.choices = choices([(k, str(v)) for k, v in catalogue.CATEGORIES.items()])
    return form


def _save_field(actor: Any, dataset: Dataset, form: FieldForm, name: str) -> Any:
    save = partial(
        catalogue.save_field,
        actor,
        dataset.id,
        name=name,
        label=form.label.data or "",
        category=form.category.data or "",
        special_category=bool(form.special_category.data),
    )
    if saved(form, save) is None:
        return None
    return redirect_with(
        _("Das Feld „%(name)s“ ist gespeichert.", name=name.strip().lower()),
        "dataaccess_staff.dataset_edit",
        dataset_id=dataset.id,
    )


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
    page = render_template("dataaccess/staff/field_form.html", form=form, dataset=dataset, field=None)
    return page, form_status(form)


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
    page = render_template("dataaccess/staff/field_form.html", form=form, dataset=dataset, field=field)
    return page, form_status(form)


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
    save = partial(
        catalogue.save_purpose,
        current_actor(),
        code=code,
        label=form.label.data or "",
        description=form.description.data or "",
        active=bool(form.active.data),
    )
    if (purpose := saved(form, save)) is None:
        return None
    return redirect_with(_("Der Zweck %(code)s ist gespeichert.", code=purpose.code), "dataaccess_staff.purposes")


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
    return render_template("dataaccess/staff/purpose_form.html", form=form, purpose=None), form_status(form)


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
    return render_template("dataaccess/staff/purpose_form.html", form=form, purpose=purpose), form_status(form)


def _save_basis(form: LegalBasisForm, basis_id: int | None) -> Any:
    save = partial(
        catalogue.save_legal_basis,
        current_actor(),
        label=form.label.data or "",
        citation=form.citation.data or "",
        active=bool(form.active.data),
        legal_basis_id=basis_id,
    )
    if (basis := saved(form, save)) is None:
        return None
    return redirect_with(
        _("Die Rechtsgrundlage „%(label)s“ ist gespeichert.", label=basis.label), "dataaccess_staff.purposes"
    )


@bp.route("/rechtsgrundlagen/neu", methods=["GET", "POST"])
@access.roles(*DPO)
def basis_new():
    form = LegalBasisForm()
    if form.validate_on_submit() and (done := _save_basis(form, None)) is not None:
        return done
    return render_template("dataaccess/staff/basis_form.html", form=form, basis=None), form_status(form)


@bp.route("/rechtsgrundlagen/<int:basis_id>", methods=["GET", "POST"])
@access.roles(*DPO)
def basis_edit(basis_id: int):
    basis = next((b for b in catalogue.legal_bases(active_only=False) if b.id == basis_id), None)
    if basis is None:
        abort(404)
    form = LegalBasisForm(obj=basis)
    if form.validate_on_submit() and (done := _save_basis(form, basis.id)) is not None:
        return done
    return render_template("dataaccess/staff/basis_form.html", form=form, basis=basis), form_status(form)
