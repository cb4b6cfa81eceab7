"""HTML routes of the clerk's desk (/schalter): day list, check-in, call, served / no-show, walk-ins, the
waiting-room display, closing a day and the statistics. Thin: parse, call one service, render or redirect."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm

from appointments.desk_forms import (
    BookingActionForm,
    CallNextForm,
    CheckInForm,
    CloseDayForm,
    StatisticsForm,
    WalkInForm,
)
from appointments.errors import BookingError
from appointments.services import closure_bookings, desk, fees, statistics
from portal import access
from portal.actors import current_actor
from portal.inputs import parse_int
from portal.timeutil import utcnow

bp = Blueprint("desk", __name__, url_prefix="/schalter")

DISPLAY_REFRESH_SECONDS = 10
desk_staff = access.roles("clerk", "department_admin", "platform_admin")

STATUS_LABELS = {
    "reserved": _l("Unbestätigt"),
    "confirmed": _l("Gebucht"),
    "offered": _l("Angeboten"),
    "cancelled": _l("Abgesagt"),
    "released": _l("Verfallen"),
    "checked_in": _l("Wartet"),
    "called": _l("Aufgerufen"),
    "served": _l("Erledigt"),
    "no_show": _l("Nicht erschienen"),
}


def _today() -> date:
    return desk.local_day(utcnow())


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(404)


def _show(form: FlaskForm, error: BookingError) -> None:
    field = getattr(form, error.field, None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


def _day_page(location_id: int, day: date, check_in_form: CheckInForm | None = None, status: int = 200) -> Any:
    actor = current_actor()
    counter = request.args.get("schalter") or None
    listing = desk.day_list(actor, location_id, day, counter=counter)
    call_form = CallNextForm(formdata=None)
    call_form.counter.choices = [(c, c) for c in listing.counters]
    if request.args.get("mein_schalter") in listing.counters:
        call_form.counter.data = request.args["mein_schalter"]
    return (
        render_template(
            "appointments/desk/day.html",
            listing=listing,
            counter=counter,
            today=_today(),
            previous_day=day - timedelta(days=1),
            next_day=day + timedelta(days=1),
            check_in_form=check_in_form or CheckInForm(formdata=None),
            call_form=call_form,
            action_form=BookingActionForm(formdata=None),
            status_labels=STATUS_LABELS,
            now=utcnow(),
            may_close=desk.may_close_days(actor, listing.location),
            fees_on=fees.payments_on(),
        ),
        status,
    )


@bp.get("/")
@desk_staff
def index():
    return render_template("appointments/desk/index.html", locations=desk.desk_locations(current_actor()))


@bp.get("/<int:location_id>/")
@desk_staff
def today(location_id: int):
    return redirect(url_for("desk.day", location_id=location_id, day=_today().isoformat()))


@bp.get("/<int:location_id>/<day>")
@desk_staff
def day(location_id: int, day: str):
    return _day_page(location_id, _parse_day(day))


@bp.post("/<int:location_id>/anmelden")
@desk_staff
def check_in(location_id: int):
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            booking = desk.check_in(current_actor(), location_id, form.reference.data or "")
        except BookingError as error:
            _show(form, error)
        else:
            flash(
                _(
                    "%(reference)s ist angemeldet: Wartenummer %(number)s.",
                    reference=booking.reference,
                    number=booking.queue_number,
                ),
                "success",
            )
            return redirect(url_for("desk.day", location_id=location_id, day=_today().isoformat()))
    return _day_page(location_id, _today(), check_in_form=form, status=422)


@bp.post("/<int:location_id>/aufrufen")
@desk_staff
def call_next(location_id: int):
    form = CallNextForm()
    form.counter.choices = [(request.form.get("counter", ""), "")]
    if not form.validate_on_submit():
        abort(400)
    try:
        booking = desk.call_next(current_actor(), location_id, form.counter.data or "")
    except BookingError as error:
        flash(error.message, "danger")
        booking = None
    else:
        if booking is None:
            flash(_("Niemand wartet."), "info")
        else:
            flash(
                _(
                    "Wartenummer %(number)s wurde an %(counter)s aufgerufen.",
                    number=booking.queue_number,
                    counter=booking.counter,
                ),
                "success",
            )
    return redirect(
        url_for("desk.day", location_id=location_id, day=_today().isoformat(), mein_schalter=form.counter.data)
    )


def _booking_action(location_id: int, action: Any, message: str) -> Any:
    form = BookingActionForm()
    booking_id = parse_int(form.booking_id.data, minimum=1)
    if not form.validate_on_submit() or booking_id is None:
        abort(400)
    try:
        booking = action(current_actor(), location_id, booking_id)
    except BookingError as error:
        flash(error.message, "danger")
        back = _today()
    else:
        flash(message % {"who": booking.reference or booking.queue_number}, "success")
        back = desk.local_day(booking.starts_at)
    return redirect(url_for("desk.day", location_id=location_id, day=back.isoformat()))


@bp.post("/<int:location_id>/erledigt")
@desk_staff
def served(location_id: int):
    return _booking_action(location_id, desk.mark_served, _("%(who)s ist erledigt."))


@bp.post("/<int:location_id>/nicht-erschienen")
@desk_staff
def no_show(location_id: int):
    return _booking_action(location_id, desk.mark_no_show, _("%(who)s ist als nicht erschienen vermerkt."))


@bp.route("/<int:location_id>/ohne-termin", methods=["GET", "POST"])
@desk_staff
def walk_in(location_id: int):
    actor = current_actor()
    location, _settings = desk.desk_location(actor, location_id)
    form = WalkInForm()
    form.services.choices = [
        (sid, f"{name} ({minutes} min)") for sid, name, minutes in desk.offered_services(location_id)
    ]
    if form.validate_on_submit():
        try:
            booking = desk.walk_in(
                actor, location_id, service_ids=list(form.services.data or []), name=form.name.data or ""
            )
        except BookingError as error:
            _show(form, error)
        else:
            flash(_("Besuch ohne Termin aufgenommen: Wartenummer %(number)s.", number=booking.queue_number), "success")
            return redirect(url_for("desk.day", location_id=location_id, day=_today().isoformat()))
    return render_template(
        "appointments/desk/walk_in.html", location=location, form=form, may_close=desk.may_close_days(actor, location)
    )


@bp.get("/<int:location_id>/anzeige")
@access.public
def display(location_id: int):
    paused = "anhalten" in request.args
    response = make_response(
        render_template("appointments/desk/display.html", display=desk.call_display(location_id), paused=paused)
    )
    if not paused:
        # The HTTP twin of <meta http-equiv="refresh">: browsers treat both alike (HTML's "shared declarative
        # refresh steps"); as a header it stays out of the document, and the page offers a link to pause it.
        response.headers["Refresh"] = str(DISPLAY_REFRESH_SECONDS)
    return response


@bp.route("/<int:location_id>/tag-absagen", methods=["GET", "POST"])
@access.roles("department_admin", "platform_admin")
def close_day(location_id: int):
    actor = current_actor()
    location, _settings = desk.desk_location(actor, location_id)
    if not desk.may_close_days(actor, location):
        abort(403)
    form = CloseDayForm()
    if form.validate_on_submit() and form.day.data is not None:
        closed_day: date = form.day.data
        try:
            if form.confirmed.data != "ja":
                # First who is affected, with the reason as it will be mailed; the day is cancelled on the next send.
                affected = closure_bookings.preview_cancel_day(actor, location_id, closed_day)
                form.confirmed.data = "ja"
                return render_template(
                    "appointments/desk/close_day_check.html", location=location, form=form, affected=affected
                )
            count = closure_bookings.cancel_day(actor, location_id, closed_day, form.reason.data or "")
        except BookingError as error:
            _show(form, error)
        else:
            message = ngettext(
                "Der %(day)s ist geschlossen; %(num)d Termin wurde abgesagt, die betroffene Person benachrichtigt.",
                "Der %(day)s ist geschlossen; %(num)d Termine wurden abgesagt, die Betroffenen benachrichtigt.",
                count,
                day=closed_day.strftime("%d.%m.%Y"),
            )
            flash(message, "success")
            return redirect(url_for("desk.day", location_id=location_id, day=closed_day.isoformat()))
    return render_template("appointments/desk/close_day.html", location=location, form=form)


@bp.get("/<int:location_id>/statistik")
@desk_staff
def statistics_page(location_id: int):
    actor = current_actor()
    location, _settings = desk.desk_location(actor, location_id)  # 403/404 before anything else
    form = StatisticsForm(request.args)
    result = None
    if form.validate():
        last = form.to.data or _today()
        first = form.from_.data or last - timedelta(days=6)
        form.from_.data, form.to.data = first, last  # shown when the address named no range
        try:
            result = statistics.location_statistics(actor, location_id, first, last)
        except BookingError as error:
            _show(form, error)
    return render_template(
        "appointments/desk/statistics.html",
        location=location,
        form=form,
        stats=result,
        may_close=desk.may_close_days(actor, location),
    )
