"""The booking wizard: services → location → day and time → details → check answers → booked.

The answers so far live in the Flask session under WIZARD, so the back button and the "Ändern" links of the
check page work and every step shows what was typed. Nothing is held before the last step: the seat is
claimed by booking.hold_booking, which the database guards ("never two bookings for one seat").

This module holds the wizard's state and its first four steps; checking the answers and booking (with the
"just taken" page) are in views_booking_check.py, the confirmation page in views_booking_done.py.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from appointments import forms
from appointments.errors import BookingError
from appointments.services import availability, captcha, case_links, catalogue, opening_hours
from appointments.views import bp, build_calendar, iso, locations_for, parse_day, parse_iso
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter
from portal.timeutil import to_berlin, utcnow

WIZARD = "termin_buchen"
# Which step asks for what a BookingError names, so the error appears next to the field that caused it.
FIELD_STEP = {
    "services": ".book_services",
    "service": ".book_services",
    "location": ".book_location",
    "start": ".book_time",
    "name": ".book_details",
    "email": ".book_details",
    "phone": ".book_details",
}


# -- the wizard's state ---------------------------------------------------------------------------------------


def wizard_state() -> dict[str, Any]:
    return dict(session.get(WIZARD) or {})


def save_state(state: dict[str, Any]) -> None:
    session[WIZARD] = state


def chosen_items(state: dict[str, Any]) -> list[tuple[int, int]]:
    return [(int(sid), int(qty)) for sid, qty in state.get("items") or []]


def first_unanswered(state: dict[str, Any]) -> Any:
    """A redirect to the first step not answered yet, or None when every answer is there."""
    if not state.get("items"):
        return redirect(url_for(".book_services"))
    if not state.get("location_id"):
        return redirect(url_for(".book_location"))
    if not state.get("start"):
        return redirect(url_for(".book_time"))
    if not state.get("email"):
        return redirect(url_for(".book_details"))
    return None


def _onward(endpoint: str) -> Any:
    """The next step, or back to the check page when a "Ändern" link led here and everything is answered."""
    if request.args.get("zurueck") == "pruefen" and first_unanswered(wizard_state()) is None:
        return redirect(url_for(".book_check"))
    return redirect(url_for(endpoint))


def pending_error(field: str) -> str | None:
    """An error the last step found for a field asked earlier (e.g. too many bookings for this email)."""
    pending = session.get(WIZARD + "_error")
    if pending and pending.get("field") == field:
        session.pop(WIZARD + "_error")
        return str(pending["message"])
    return None


def _status(form: Any) -> int:
    """422 when a sent form is refused; a step showing an error found later (after a redirect) is a 200."""
    return 422 if form.errors and request.method == "POST" else 200


def send_to_field(error: BookingError) -> Any:
    session[WIZARD + "_error"] = {"field": error.field, "message": error.message}
    return redirect(url_for(FIELD_STEP.get(error.field, ".book_check"), zurueck="pruefen"))


# -- step 1: services -----------------------------------------------------------------------------------------


@bp.route("/buchen", methods=["GET", "POST"])
@access.public
def book_services():
    offered = catalogue.offered_services()
    state = wizard_state()
    chosen = dict(chosen_items(state))
    choices = [(s.id, s.name, max((o.max_quantity for o in s.offered_at), default=1)) for s in offered]
    # A link from another service ("Bauberatung buchen": ?leistung=ID) ticks that service when nothing is chosen yet.
    preselect = request.args.get("leistung", type=int)
    if request.method == "GET" and not chosen and any(s.id == preselect for s in offered):
        chosen = {preselect: 1}
    if request.method == "GET" and ("leistung" in request.args or "fall" in request.args):
        # Coming from another service's page: the appointment is for that case (?fall=permit:ID), if it is the
        # booker's own, or for none; a link kept from an earlier, unfinished visit does not carry over.
        link = case_links.resolve(current_actor(), request.args.get("fall"))
        state = {key: value for key, value in state.items() if key != "case"} | ({"case": link.key} if link else {})
        save_state(state)
    form = forms.services_form(choices, chosen)
    error = pending_error("services") or pending_error("service")
    if error:
        form.services.errors = [error]
    elif form.validate_on_submit():
        items = form.chosen()
        if items != chosen_items(state):
            # Another visit may not fit the location or time chosen before.
            state = {key: value for key, value in state.items() if key not in ("location_id", "start")}
        state["items"] = items
        save_state(state)
        return _onward(".book_location")
    services = {s.id: s for s in offered}
    # Told before the first step: without JavaScript, locations asking for the captcha cannot be booked online.
    needs_script = bool(captcha.required_among(at.location_id for s in offered for at in s.offered_at))
    return render_template(
        "appointments/book_services.html", form=form, services=services, needs_script=needs_script, step=1
    ), _status(form)


# -- step 2: location -----------------------------------------------------------------------------------------


@bp.route("/buchen/standort", methods=["GET", "POST"])
@access.public
def book_location():
    state = wizard_state()
    if not state.get("items"):
        return redirect(url_for(".book_services"))
    items = chosen_items(state)
    locations = locations_for(items)
    form = forms.LocationForm(data={"location": state.get("location_id")} if request.method == "GET" else None)
    form.location.choices = [
        (
            loc.id,
            _(
                "%(name)s, %(address)s – Dauer: %(minutes)s Minuten",
                name=loc.name,
                address=loc.address,
                minutes=minutes,
            ),
        )
        for loc, minutes in locations
    ]
    error = pending_error("location")
    if error:
        form.location.errors = [error]
    elif form.validate_on_submit():
        if form.location.data != state.get("location_id"):
            state.pop("start", None)
        state["location_id"] = form.location.data
        save_state(state)
        return _onward(".book_time")
    needs_script = captcha.required_among(loc.id for loc, _minutes in locations)
    hours = opening_hours.weekly_hours((loc.id for loc, _minutes in locations), to_berlin(utcnow()).date())
    return render_template(
        "appointments/book_location.html",
        form=form,
        locations=locations,
        needs_script=[loc.name for loc, _minutes in locations if loc.id in needs_script],
        hours=hours,
        step=2,
    ), _status(form)


# -- step 3: day and time -------------------------------------------------------------------------------------


def _search_limit() -> str:
    return catalogue.search_rate_limit(wizard_state().get("location_id"))


def _location_scope(endpoint: str) -> str:
    return f"web:{endpoint}:{wizard_state().get('location_id', '-')}"


@bp.route("/buchen/termin", methods=["GET", "POST"])
@limiter.limit(_search_limit, scope=_location_scope, methods=["GET"])
@access.public
def book_time():
    state = wizard_state()
    missing = first_unanswered({**state, "start": "-", "email": "-"})
    if missing is not None:
        return missing
    items, location_id = chosen_items(state), int(state["location_id"])
    chosen_start = parse_iso(state.get("start"))
    # Coming back to this step (back button, "Ändern") shows the day chosen before.
    day = parse_day(request.args.get("tag")) or (
        to_berlin(chosen_start).date() if chosen_start and "ab" not in request.args else None
    )
    form = forms.TimeForm(data={"start": state.get("start")} if request.method == "GET" else None)
    error = pending_error("start")
    if error:
        form.start.errors = [error]
    elif form.validate_on_submit():
        start = parse_iso(form.start.data)
        try:
            if start is None:
                raise BookingError("start", _("Bitte wählen Sie eine Uhrzeit aus."), "invalid")
            availability.check_bookable(location_id, items, start)
        except BookingError as refused:
            form.start.errors = [refused.message]
            day = to_berlin(start).date() if start else day
        else:
            state["start"] = iso(start)
            save_state(state)
            return _onward(".book_details")
    try:
        calendar = build_calendar(location_id, items, parse_day(request.args.get("ab")), day)
    except BookingError as gone:  # the location or a service stopped taking appointments meanwhile
        return send_to_field(gone)
    form.start.choices = calendar.times
    return render_template(
        "appointments/book_time.html",
        form=form,
        calendar=calendar,
        day_url=lambda d: url_for(".book_time", ab=calendar.first.isoformat(), tag=d.isoformat(), **_back_arg()),
        week_url=lambda d: url_for(".book_time", ab=d.isoformat(), **_back_arg()),
        step=3,
    ), _status(form)


def _back_arg() -> dict[str, str]:
    return {"zurueck": "pruefen"} if request.args.get("zurueck") == "pruefen" else {}


# -- step 4: details ------------------------------------------------------------------------------------------


@bp.route("/buchen/angaben", methods=["GET", "POST"])
@access.public
def book_details():
    state = wizard_state()
    missing = first_unanswered({**state, "email": "-"})
    if missing is not None:
        return missing
    if request.method == "GET":
        data = {key: state.get(key) for key in ("name", "email", "phone")}
        if not data["email"] and current_user.is_authenticated:
            data = {"name": current_user.display_name, "email": current_user.email, "phone": None}
        form = forms.DetailsForm(data=data)
    else:
        form = forms.DetailsForm()
    pending = [(name, pending_error(name)) for name in ("name", "email", "phone")]
    if any(message for _name, message in pending):
        for name, message in pending:
            if message:
                getattr(form, name).errors = [message]
    elif form.validate_on_submit():
        state.update(name=form.name.data.strip(), email=form.email.data.strip(), phone=(form.phone.data or "").strip())
        save_state(state)
        return redirect(url_for(".book_check"))
    return render_template("appointments/book_details.html", form=form, step=4), _status(form)
