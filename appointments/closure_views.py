"""The bookings a newly added closure hits (/admin/termine/standorte/N/schliesstage/C/termine): listed, and
cancelled with notification on request. Routes on the configuration blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from appointments.admin_views import CONFIG_ROLES, bp
from appointments.errors import BookingError
from appointments.services import closure_bookings as affected_bookings
from appointments.views import booking_details
from portal import access
from portal.actors import current_actor


class CancelClosureForm(FlaskForm):
    reason = TextAreaField(
        _l("Grund für die Betroffenen"),
        validators=[DataRequired(_l("Geben Sie einen Grund an.")), Length(max=200)],
    )


def _page(location_id: int, closure_id: int, form: CancelClosureForm, status: int = 200):
    location, closure, bookings, may_cancel = affected_bookings.affected(current_actor(), location_id, closure_id)
    if not form.is_submitted():
        form.reason.data = closure.reason
    return render_template(
        "appointments/admin/closure_bookings.html",
        location=location,
        closure=closure,
        bookings=bookings,
        details={b.id: booking_details(b) for b in bookings},
        may_cancel=may_cancel,
        form=form,
    ), status


@bp.get("/standorte/<int:location_id>/schliesstage/<int:closure_id>/termine")
@access.roles(*CONFIG_ROLES)
def closure_bookings(location_id: int, closure_id: int):
    return _page(location_id, closure_id, CancelClosureForm())


@bp.post("/standorte/<int:location_id>/schliesstage/<int:closure_id>/termine")
@access.roles(*CONFIG_ROLES)
def closure_bookings_cancel(location_id: int, closure_id: int):
    form = CancelClosureForm()
    if form.validate_on_submit():
        try:
            count = affected_bookings.cancel_affected(current_actor(), location_id, closure_id, form.reason.data or "")
        except BookingError as error:
            form.reason.errors = [*form.reason.errors, error.message]
        else:
            flash(
                ngettext(
                    "%(num)d Termin wurde abgesagt; die Betroffenen erhalten eine E-Mail.",
                    "%(num)d Termine wurden abgesagt; die Betroffenen erhalten eine E-Mail.",
                    count,
                ),
                "success",
            )
            return redirect(url_for("appointments_admin.closures", location_id=location_id))
    return _page(location_id, closure_id, form, 422)
