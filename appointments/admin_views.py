"""Appointment configuration at /admin/termine: settings, offered services, opening hours, closures.

Who may change which location is decided in appointments/services/config.py; clerks reach the overview
(it tells them whom to ask) but no location's pages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms.fields import SelectChoice

from appointments.admin_forms import (
    ClosureForm,
    OfferedServiceForm,
    OpeningPeriodEditForm,
    OpeningPeriodForm,
    ServiceFeeForm,
    SettingsForm,
)
from appointments.services import config, fees
from portal import access
from portal.actors import current_actor

bp = Blueprint("appointments_admin", __name__, url_prefix="/admin/termine")

CONFIG_ROLES = ("clerk", "department_admin", "platform_admin")
WEEKDAYS = dict(enumerate(config.WEEKDAY_NAMES))


def show_error(form: FlaskForm, error: config.ConfigError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(str(error.message), "danger")


def _render(template: str, location_id: int, status: int = 200, **context: Any):
    view = config.location_config(current_actor(), location_id)
    return (
        render_template(
            f"appointments/admin/{template}",
            config=view,
            location=view.location,
            weekdays=WEEKDAYS,
            **context,
        ),
        status,
    )


@bp.get("/")
@access.roles(*CONFIG_ROLES)
def index():
    return render_template("appointments/admin/index.html", rows=config.configurable_locations(current_actor()))


# Settings ------------------------------------------------------------------------------------------------


def _settings_data(form: SettingsForm) -> config.SettingsData:
    return config.SettingsData(
        active=bool(form.active.data),
        counters=form.counters.data or 0,
        slot_minutes=form.slot_minutes.data or 0,
        horizon_days=form.horizon_days.data or 0,
        min_notice_minutes=form.min_notice_minutes.data or 0,
        buffer_minutes=form.buffer_minutes.data or 0,
        held_back_seats=form.held_back_seats.data or 0,
        confirm_within_minutes=form.confirm_within_minutes.data,
        max_open_per_email=form.max_open_per_email.data or 0,
        cancel_cooldown_minutes=form.cancel_cooldown_minutes.data or 0,
        captcha_required=bool(form.captcha_required.data),
        reminder_hours=form.reminder_hours.data or 0,
        waitlist_offer_minutes=form.waitlist_offer_minutes.data or 0,
        search_rate_limit=form.rate("search"),
        booking_rate_limit=form.rate("booking"),
    )


@bp.route("/standorte/<int:location_id>/", methods=["GET", "POST"])
@access.roles(*CONFIG_ROLES)
def settings(location_id: int):
    actor = current_actor()
    view = config.location_config(actor, location_id)
    # Unsaved locations start from the model's defaults, so the first save is a sensible configuration.
    form = SettingsForm(obj=view.settings, data=None if view.settings else config.default_settings())
    if not form.is_submitted():
        stored = view.settings or config.default_settings()
        limits = stored if isinstance(stored, dict) else vars(stored)
        form.load_rates(limits["search_rate_limit"], limits["booking_rate_limit"])
    if form.validate_on_submit():
        try:
            config.save_settings(actor, location_id, _settings_data(form))
        except config.ConfigError as error:
            show_error(form, error)
        else:
            flash(_("Die Einstellungen wurden gespeichert."), "success")
            return redirect(url_for("appointments_admin.settings", location_id=location_id))
    status = 422 if form.errors else 200
    return _render("settings.html", location_id, status, form=form, section="settings")


# Offered services ----------------------------------------------------------------------------------------


def _service_form(**kwargs: Any) -> OfferedServiceForm:
    form = OfferedServiceForm(**kwargs)
    form.catalogue_service_id.choices = [
        SelectChoice(entry.id, f"{entry.name} ({entry.department.name})")  # type: ignore[arg-type]
        for entry in config.catalogue_choices()
    ]
    return form


def _service_data(form: OfferedServiceForm) -> config.OfferedServiceData:
    return config.OfferedServiceData(
        catalogue_service_id=form.catalogue_service_id.data or 0,
        duration_minutes=form.duration_minutes.data or 0,
        max_quantity=form.max_quantity.data or 0,
        active=bool(form.active.data),
    )


@bp.route("/standorte/<int:location_id>/leistungen", methods=["GET", "POST"])
@access.roles(*CONFIG_ROLES)
def services(location_id: int):
    actor = current_actor()
    config.location_for_config(actor, location_id)
    form = _service_form(data={"duration_minutes": 15, "max_quantity": 5, "active": True})
    if form.validate_on_submit():
        try:
            config.save_offered_service(actor, location_id, _service_data(form))
        except config.ConfigError as error:
            show_error(form, error)
        else:
            flash(_("Die Leistung wird jetzt an diesem Standort angeboten."), "success")
            return redirect(url_for("appointments_admin.services", location_id=location_id))
    status = 422 if form.errors else 200
    return _render("services.html", location_id, status, form=form, section="services")


@bp.route("/standorte/<int:location_id>/leistungen/<int:offered_id>", methods=["GET", "POST"])
@access.roles(*CONFIG_ROLES)
def service_edit(location_id: int, offered_id: int):
    actor = current_actor()
    offered = config.offered_service_for_edit(actor, location_id, offered_id)
    form = _service_form(obj=offered)
    if form.validate_on_submit():
        try:
            config.save_offered_service(actor, location_id, _service_data(form), offered_id)
        except config.ConfigError as error:
            show_error(form, error)
        else:
            flash(_("Die Leistung wurde gespeichert."), "success")
            return redirect(url_for("appointments_admin.services", location_id=location_id))
    status = 422 if form.errors else 200
    return _render("service_form.html", location_id, status, form=form, offered=offered, section="services")


# Opening hours -------------------------------------------------------------------------------------------


@bp.route("/standorte/<int:location_id>/oeffnungszeiten", methods=["GET", "POST"])
@access.roles(*CONFIG_ROLES)
def hours(location_id: int):
    actor = current_actor()
    config.location_for_config(actor, location_id)
    form = OpeningPeriodForm()
    if form.validate_on_submit():
        try:
            config.save_opening_period(
                actor,
                location_id,
                config.OpeningPeriodData(
                    weekdays=tuple(form.weekdays.data or ()),
                    opens=form.opens.data,
                    closes=form.closes.data,
                    valid_from=form.valid_from.data,
                    valid_until=form.valid_until.data,
                ),
            )
        except config.ConfigError as error:
            show_error(form, error)
        else:
            flash(_("Die Öffnungszeiten wurden hinzugefügt."), "success")
            return redirect(url_for("appointments_admin.hours", location_id=location_id))
    status = 422 if form.errors else 200
    return _render("hours.html", location_id, status, form=form, section="hours")


@bp.route("/standorte/<int:location_id>/oeffnungszeiten/<int:period_id>/bearbeiten", methods=["GET", "POST"])
@access.roles(*CONFIG_ROLES)
def hours_edit(location_id: int, period_id: int):
    actor = current_actor()
    period = config.opening_period(actor, location_id, period_id)
    form = OpeningPeriodEditForm(obj=period)
    if form.validate_on_submit():
        try:
            config.update_opening_period(
                actor,
                location_id,
                period_id,
                config.OpeningPeriodData(
                    weekdays=(form.weekday.data,),
                    opens=form.opens.data,
                    closes=form.closes.data,
                    valid_from=form.valid_from.data,
                    valid_until=form.valid_until.data,
                ),
            )
        except config.ConfigError as error:
            show_error(form, error)
        else:
            flash(_("Die Öffnungszeit wurde geändert."), "success")
            return redirect(url_for("appointments_admin.hours", location_id=location_id))
    status = 422 if form.errors else 200
    return _render("hours_edit.html", location_id, status, form=form, period=period, section="hours")


@bp.post("/standorte/<int:location_id>/oeffnungszeiten/<int:period_id>/loeschen")
@access.roles(*CONFIG_ROLES)
def hours_delete(location_id: int, period_id: int):
    config.delete_opening_period(current_actor(), location_id, period_id)
    flash(_("Die Öffnungszeit wurde entfernt."), "success")
    return redirect(url_for("appointments_admin.hours", location_id=location_id))


# Closures ------------------------------------------------------------------------------------------------


@bp.route("/standorte/<int:location_id>/schliesstage", methods=["GET", "POST"])
@access.roles(*CONFIG_ROLES)
def closures(location_id: int):
    actor = current_actor()
    config.location_for_config(actor, location_id)
    form = ClosureForm()
    if form.validate_on_submit():
        try:
            closure = config.add_closure(
                actor,
                location_id,
                config.ClosureData(
                    first_day=form.first_day.data,
                    last_day=form.last_day.data,
                    reason=form.reason.data or "",
                ),
            )
        except config.ConfigError as error:
            show_error(form, error)
        else:
            flash(_("Die Schließzeit wurde eingetragen."), "success")
            # Booked appointments in the closed days are shown next, with the offer to cancel them.
            return redirect(
                url_for("appointments_admin.closure_bookings", location_id=location_id, closure_id=closure.id)
            )
    status = 422 if form.errors else 200
    return _render("closures.html", location_id, status, form=form, section="closures")


@bp.post("/standorte/<int:location_id>/schliesstage/<int:closure_id>/loeschen")
@access.roles(*CONFIG_ROLES)
def closure_delete(location_id: int, closure_id: int):
    config.delete_closure(current_actor(), location_id, closure_id)
    flash(_("Die Schließzeit wurde entfernt."), "success")
    return redirect(url_for("appointments_admin.closures", location_id=location_id))


# Fees of catalogue services (only with the payments service) --------------------------------------------


@bp.get("/gebuehren")
@access.roles("department_admin", "platform_admin")
def fees_index():
    return render_template("appointments/admin/fees.html", rows=fees.fee_rows(current_actor()))


@bp.route("/gebuehren/<int:service_id>", methods=["GET", "POST"])
@access.roles("department_admin", "platform_admin")
def fee_edit(service_id: int):
    actor = current_actor()
    row = fees.fee_row(actor, service_id)
    link = row.link
    data = {"fee_code": link.fee_code if link else "", "refund": "hours", "refund_hours": 24}
    if link is not None and link.refund_hours_before is None:
        data.update(refund="never", refund_hours=None)
    elif link is not None:
        data["refund_hours"] = link.refund_hours_before
    form = ServiceFeeForm(data=data)
    choices = [("", _("keine Gebühr")), *fees.fee_choices()]
    if link is not None and link.fee_code not in {code for code, _label in choices}:
        choices.append((link.fee_code, _("%(code)s (nicht im Gebührenkatalog)", code=link.fee_code)))
    form.fee_code.choices = [SelectChoice(code, label) for code, label in choices]  # type: ignore[assignment]
    if form.validate_on_submit():
        hours = None if form.refund.data == "never" else form.refund_hours.data
        try:
            if form.refund.data != "never" and hours is None:
                message = _("Geben Sie die Stunden an, oder wählen Sie „keine Erstattung“.")
                raise fees.FeeConfigError(message, "refund_hours")
            fees.save_fee(actor, service_id, form.fee_code.data or None, hours)
        except fees.FeeConfigError as error:
            field = getattr(form, error.field)
            field.errors = [*field.errors, error.message]
        else:
            flash(_("Die Gebühr der Leistung wurde gespeichert."), "success")
            return redirect(url_for("appointments_admin.fees_index"))
    status = 422 if form.errors else 200
    return render_template("appointments/admin/fee_form.html", form=form, row=row), status
