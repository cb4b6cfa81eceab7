"""The admin area at /admin: departments, locations, the service catalogue (staff in staff_views).

Every route is open to staff only; which department a person may touch is decided in the services.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from portal import access, services_registry
from portal.actors import Actor, current_actor
from portal.admin.forms import CatalogueForm, ConfirmForm, DepartmentForm, LocationForm, parse_decimal
from portal.admin.services import AdminError, is_platform_admin, manageable_departments, require_platform_admin
from portal.admin.services import catalogue as catalogue_services
from portal.admin.services import departments as department_services
from portal.admin.services import locations as location_services
from portal.timeutil import to_berlin, utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


def show_error(form: FlaskForm, error: AdminError) -> None:
    """Put a service's refusal next to its field, or above the form when it belongs to no field."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(str(error.message), "danger")


# Admin pages other parts of the portal provide; listed when they exist and their access rule admits the person.
OTHER_AREAS = [
    ("audit.admin_log", _l("Audit-Protokoll")),
    ("mail_admin.index", _l("Postausgang")),
    ("tokens.index", _l("API-Zugänge")),
]


def other_areas(actor: Actor) -> list[tuple[str, Any]]:
    areas = []
    for endpoint, label in [*OTHER_AREAS, *current_app.extensions.get("stadtportal_admin_links", [])]:
        rule = access.rule_for(current_app, endpoint)
        if rule is None:
            continue
        admitted = (rule.kind == "role" and any(actor.has_role(role) for role in rule.roles)) or (
            rule.kind == "staff" and actor.user is not None and actor.user.is_staff
        )
        if admitted:
            areas.append((url_for(endpoint), label))
    return areas


@bp.get("/")
@access.staff
def index():
    actor = current_actor()
    return render_template(
        "admin/index.html",
        platform_admin=is_platform_admin(actor),
        departments=manageable_departments(actor),
        other_areas=other_areas(actor),
    )


# Departments -------------------------------------------------------------------------------------------


@bp.get("/aemter")
@access.staff
def departments():
    actor = current_actor()
    return render_template(
        "admin/departments.html", departments=manageable_departments(actor), platform_admin=is_platform_admin(actor)
    )


def _department_data(form: DepartmentForm) -> department_services.DepartmentData:
    return department_services.DepartmentData(
        slug=form.slug.data or "", name=form.name.data or "", email=form.email.data, phone=form.phone.data
    )


@bp.route("/aemter/neu", methods=["GET", "POST"])
@access.staff
def department_new():
    actor = current_actor()
    require_platform_admin(actor)
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            department = department_services.save_department(actor, _department_data(form))
        except AdminError as error:
            show_error(form, error)
        else:
            flash(_("Das Amt „%(name)s“ wurde angelegt.", name=department.name), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, department=None)


@bp.route("/aemter/<int:department_id>/bearbeiten", methods=["GET", "POST"])
@access.staff
def department_edit(department_id: int):
    actor = current_actor()
    department = department_services.get_department_for_edit(actor, department_id)
    form = DepartmentForm(obj=department)
    if form.validate_on_submit():
        try:
            department_services.save_department(actor, _department_data(form), department_id)
        except AdminError as error:
            show_error(form, error)
        else:
            flash(_("Die Angaben zum Amt wurden gespeichert."), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, department=department)


# Locations ---------------------------------------------------------------------------------------------


@bp.get("/aemter/<int:department_id>/standorte")
@access.staff
def locations(department_id: int):
    department, rows = location_services.locations_of(current_actor(), department_id)
    hours = services_registry.opening_hours((row.id for row in rows), to_berlin(utcnow()).date())
    return render_template(
        "admin/locations.html",
        department=department,
        locations=rows,
        hours=hours,
        hours_endpoint=services_registry.opening_hours_edit_endpoint(),
    )


def _location_data(form: LocationForm) -> location_services.LocationData:
    return location_services.LocationData(
        name=form.name.data or "",
        street=form.street.data or "",
        postcode=form.postcode.data or "",
        city=form.city.data or "",
        latitude=parse_decimal(form.latitude.data),
        longitude=parse_decimal(form.longitude.data),
        notes=form.notes.data or "",
    )


@bp.route("/aemter/<int:department_id>/standorte/neu", methods=["GET", "POST"])
@access.staff
def location_new(department_id: int):
    actor = current_actor()
    department, _rows = location_services.locations_of(actor, department_id)
    form = LocationForm()
    if form.validate_on_submit():
        try:
            location = location_services.save_location(actor, department_id, _location_data(form))
        except AdminError as error:
            show_error(form, error)
        else:
            flash(_("Der Standort „%(name)s“ wurde angelegt.", name=location.name), "success")
            return redirect(url_for("admin.locations", department_id=department_id))
    return render_template("admin/location_form.html", form=form, department=department, location=None)


def _coordinate_text(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


@bp.route("/standorte/<int:location_id>/bearbeiten", methods=["GET", "POST"])
@access.staff
def location_edit(location_id: int):
    actor = current_actor()
    location = location_services.get_location_for_edit(actor, location_id)
    form = LocationForm(obj=location)
    if not form.is_submitted():
        # Shown the German way (51,0504); the form accepts both separators.
        form.latitude.data = _coordinate_text(location.latitude)
        form.longitude.data = _coordinate_text(location.longitude)
    if form.validate_on_submit():
        try:
            location_services.save_location(actor, location.department_id, _location_data(form), location_id)
        except AdminError as error:
            show_error(form, error)
        else:
            flash(_("Der Standort wurde gespeichert."), "success")
            return redirect(url_for("admin.locations", department_id=location.department_id))
    return render_template("admin/location_form.html", form=form, department=location.department, location=location)


# Service catalogue -------------------------------------------------------------------------------------


@bp.get("/leistungen")
@access.staff
def catalogue():
    actor = current_actor()
    return render_template(
        "admin/catalogue.html",
        entries=catalogue_services.catalogue_for(actor),
        can_create=bool(manageable_departments(actor)),
        toggle_form=ConfirmForm(),
    )


def _catalogue_form(actor: Any, **kwargs: Any) -> CatalogueForm:
    form = CatalogueForm(**kwargs)
    form.department_id.choices = [(d.id, d.name) for d in manageable_departments(actor)]
    return form


def _catalogue_data(form: CatalogueForm) -> catalogue_services.CatalogueData:
    return catalogue_services.CatalogueData(
        name=form.name.data or "",
        department_id=form.department_id.data,
        description=form.description.data or "",
        leika_key=form.leika_key.data,
        bring=form.bring.data or "",
        fee_kind=form.fee_kind.data or "unknown",
        fee_amount=form.fee_amount.data or "",
        name_en=form.name_en.data or "",
        description_en=form.description_en.data or "",
        bring_en=form.bring_en.data or "",
    )


@bp.route("/leistungen/neu", methods=["GET", "POST"])
@access.staff
def catalogue_new():
    actor = current_actor()
    form = _catalogue_form(actor)
    if not form.department_id.choices:
        abort(403)
    if form.validate_on_submit():
        try:
            entry = catalogue_services.save_entry(actor, _catalogue_data(form))
        except AdminError as error:
            show_error(form, error)
        else:
            flash(_("Die Leistung „%(name)s“ wurde angelegt.", name=entry.name), "success")
            return redirect(url_for("admin.catalogue"))
    return render_template("admin/catalogue_form.html", form=form, entry=None)


@bp.route("/leistungen/<int:entry_id>/bearbeiten", methods=["GET", "POST"])
@access.staff
def catalogue_edit(entry_id: int):
    actor = current_actor()
    entry = catalogue_services.get_entry_for_edit(actor, entry_id)
    form = _catalogue_form(actor, obj=entry)
    if not form.is_submitted():
        form.fee_amount.data = catalogue_services.fee_amount_text(entry)
    if form.validate_on_submit():
        try:
            catalogue_services.save_entry(actor, _catalogue_data(form), entry_id)
        except AdminError as error:
            show_error(form, error)
        else:
            flash(_("Die Leistung wurde gespeichert."), "success")
            return redirect(url_for("admin.catalogue"))
    return render_template("admin/catalogue_form.html", form=form, entry=entry)


@bp.post("/leistungen/<int:entry_id>/deaktivieren")
@access.staff
def catalogue_deactivate(entry_id: int):
    return _toggle(entry_id, active=False)


@bp.post("/leistungen/<int:entry_id>/aktivieren")
@access.staff
def catalogue_activate(entry_id: int):
    return _toggle(entry_id, active=True)


def _toggle(entry_id: int, active: bool) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    entry = catalogue_services.set_entry_active(current_actor(), entry_id, active)
    if active:
        flash(_("„%(name)s“ ist wieder im Leistungskatalog.", name=entry.name), "success")
    else:
        flash(_("„%(name)s“ wurde deaktiviert und erscheint nicht mehr im Katalog.", name=entry.name), "success")
    return redirect(url_for("admin.catalogue"))


from portal.admin import staff_views  # noqa: E402,F401  (registers the staff routes on bp)
