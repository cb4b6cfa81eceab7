"""The booking wizard: services → location → day and time → details → check answers → booked.

The answers so far live in the Flask session under WIZARD, so the back button and the "Ändern" links of the
check page work and every step shows what was typed. Nothing is held before the last step: the seat is
claimed by booking.hold_booking, which the database guards ("never two bookings for one seat").

After booking, the manage token is kept in the session only encrypted (the session cookie is signed, not
secret): the confirmation page offers the calendar file, but the token must not leak to whoever holds the
cookie, because it also confirms a booking that needs confirmation by mail.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import abort, current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from appointments import forms
from appointments.errors import BookingError, NotFound, SlotTaken
from appointments.ics import booking_calendar
from appointments.services import (
    antiabuse,
    availability,
    captcha,
    case_links,
    catalogue,
    fee_payments,
    fees,
    opening_hours,
    qr,
)
from appointments.services import booking as booking_service
from appointments.views import (
    booking_details,
    bp,
    build_calendar,
    ics_response,
    iso,
    locations_for,
    parse_day,
    parse_iso,
    slot_label,
)
from portal import access
from portal.accounts.services import organisations
from portal.actors import current_actor
from portal.extensions import limiter
from portal.timeutil import to_berlin, utcnow

WIZARD = "termin_buchen"
DONE = "termin_gebucht"
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


def _state() -> dict[str, Any]:
    return dict(session.get(WIZARD) or {})


def _save(state: dict[str, Any]) -> None:
    session[WIZARD] = state


def _items(state: dict[str, Any]) -> list[tuple[int, int]]:
    return [(int(sid), int(qty)) for sid, qty in state.get("items") or []]


def _missing(state: dict[str, Any]) -> Any:
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
    if request.args.get("zurueck") == "pruefen" and _missing(_state()) is None:
        return redirect(url_for(".book_check"))
    return redirect(url_for(endpoint))


def _pending_error(field: str) -> str | None:
    """An error the last step found for a field asked earlier (e.g. too many bookings for this email)."""
    pending = session.get(WIZARD + "_error")
    if pending and pending.get("field") == field:
        session.pop(WIZARD + "_error")
        return str(pending["message"])
    return None


def _status(form: Any) -> int:
    """422 when a sent form is refused; a step showing an error found later (after a redirect) is a 200."""
    return 422 if form.errors and request.method == "POST" else 200


def _send_to_field(error: BookingError) -> Any:
    session[WIZARD + "_error"] = {"field": error.field, "message": error.message}
    return redirect(url_for(FIELD_STEP.get(error.field, ".book_check"), zurueck="pruefen"))


# -- step 1: services -----------------------------------------------------------------------------------------


@bp.route("/buchen", methods=["GET", "POST"])
@access.public
def book_services():
    offered = catalogue.offered_services()
    state = _state()
    chosen = dict(_items(state))
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
        _save(state)
    form = forms.services_form(choices, chosen)
    error = _pending_error("services") or _pending_error("service")
    if error:
        form.services.errors = [error]
    elif form.validate_on_submit():
        items = form.chosen()
        if items != _items(state):
            # Another visit may not fit the location or time chosen before.
            state = {key: value for key, value in state.items() if key not in ("location_id", "start")}
        state["items"] = items
        _save(state)
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
    state = _state()
    if not state.get("items"):
        return redirect(url_for(".book_services"))
    items = _items(state)
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
    error = _pending_error("location")
    if error:
        form.location.errors = [error]
    elif form.validate_on_submit():
        if form.location.data != state.get("location_id"):
            state.pop("start", None)
        state["location_id"] = form.location.data
        _save(state)
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
    return catalogue.search_rate_limit(_state().get("location_id"))


def _booking_limit() -> str:
    return antiabuse.booking_rate_limit(_state().get("location_id"))


def _location_scope(endpoint: str) -> str:
    return f"web:{endpoint}:{_state().get('location_id', '-')}"


@bp.route("/buchen/termin", methods=["GET", "POST"])
@limiter.limit(_search_limit, scope=_location_scope, methods=["GET"])
@access.public
def book_time():
    state = _state()
    missing = _missing({**state, "start": "-", "email": "-"})
    if missing is not None:
        return missing
    items, location_id = _items(state), int(state["location_id"])
    chosen_start = parse_iso(state.get("start"))
    # Coming back to this step (back button, "Ändern") shows the day chosen before.
    day = parse_day(request.args.get("tag")) or (
        to_berlin(chosen_start).date() if chosen_start and "ab" not in request.args else None
    )
    form = forms.TimeForm(data={"start": state.get("start")} if request.method == "GET" else None)
    error = _pending_error("start")
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
            _save(state)
            return _onward(".book_details")
    try:
        calendar = build_calendar(location_id, items, parse_day(request.args.get("ab")), day)
    except BookingError as gone:  # the location or a service stopped taking appointments meanwhile
        return _send_to_field(gone)
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
    state = _state()
    missing = _missing({**state, "email": "-"})
    if missing is not None:
        return missing
    if request.method == "GET":
        data = {key: state.get(key) for key in ("name", "email", "phone")}
        if not data["email"] and current_user.is_authenticated:
            data = {"name": current_user.display_name, "email": current_user.email, "phone": None}
        form = forms.DetailsForm(data=data)
    else:
        form = forms.DetailsForm()
    pending = [(name, _pending_error(name)) for name in ("name", "email", "phone")]
    if any(message for _name, message in pending):
        for name, message in pending:
            if message:
                getattr(form, name).errors = [message]
    elif form.validate_on_submit():
        state.update(name=form.name.data.strip(), email=form.email.data.strip(), phone=(form.phone.data or "").strip())
        _save(state)
        return redirect(url_for(".book_check"))
    return render_template("appointments/book_details.html", form=form, step=4), _status(form)


# -- step 5: check answers and book ---------------------------------------------------------------------------


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    items = _items(state)
    names = catalogue.service_names(sid for sid, _qty in items)
    location_id = int(state["location_id"])
    location = next((loc for loc, _m in locations_for(items) if loc.id == location_id), None)
    quote = fees.quote_items(items)
    return {
        "services": [(names.get(sid, "?"), qty) for sid, qty in items],
        "location": location,
        "minutes": availability.duration_for(location_id, items) if location else None,
        "start": parse_iso(state.get("start")),
        "name": state.get("name"),
        "email": state.get("email"),
        "phone": state.get("phone"),
        # Acting for a business: the booking will belong to it (the check page says so).
        "organisation": organisations.acting_organisation(),
        "case": case_links.resolve(current_actor(), state.get("case")),
        # The fee (None: none, or payments off): the total, what each service costs, the refund policy.
        "fee": quote,
        "fee_lines": [(names.get(line.service_id, "?"), line.quantity, line.amount_cents) for line in quote.lines]
        if quote
        else [],
        "fee_policy": fees.policy_text(quote.refund_hours_before) if quote else None,
    }


def _has_fee(state: dict[str, Any]) -> bool:
    return fees.quote_items(_items(state)) is not None


def _captcha(location_id: int) -> dict[str, Any] | None:
    """A fresh proof-of-work challenge when the location asks for one, else None."""
    return captcha.create_challenge() if captcha.required_at(location_id) else None


@bp.route("/buchen/pruefen", methods=["GET", "POST"])
@limiter.limit(_booking_limit, scope=lambda _endpoint: "web:booking", methods=["POST"])
@access.public
def book_check():
    state = _state()
    missing = _missing(state)
    if missing is not None:
        return missing
    with_fee = _has_fee(state)
    form = forms.check_form(with_fee)
    error = _pending_error("captcha")
    if error:
        form.altcha.errors = [error]
    elif form.validate_on_submit():
        if isinstance(form, forms.CheckWithFeeForm):
            # Kept with the answers: "just taken" books another time without this page.
            state["payment"] = form.payment.data
            _save(state)
        return _hold(state, parse_iso(state["start"]), form.altcha.data)
    return _check_page(state, form)


def _check_page(state: dict[str, Any], form: forms.CheckForm, problem: str | None = None):
    return render_template(
        "appointments/book_check.html",
        form=form,
        problem=problem,
        summary=_summary(state),
        captcha=_captcha(int(state["location_id"])),
        step=5,
    ), (422 if form.errors or problem else 200)


def _hold(state: dict[str, Any], start: datetime | None, captcha: str | None):
    actor = current_actor()
    try:
        if start is None:
            raise BookingError("start", _("Bitte wählen Sie eine Uhrzeit aus."), "invalid")
        held = booking_service.hold_booking(
            actor,
            location_id=int(state["location_id"]),
            items=_items(state),
            start=start,
            name=state["name"],
            email=state["email"],
            phone=state.get("phone") or None,
            language=str(get_locale() or "de"),
            user_id=actor.user.id if actor.user is not None else None,
            captcha=captcha or None,
            # The form asks whenever there is a fee; a fee that appeared after the page was shown is paid
            # at the desk rather than refused.
            payment=state.get("payment"),
            case_key=state.get("case"),
        )
    except SlotTaken as taken:
        return _taken_page(state, taken)
    except BookingError as refused:
        with_fee = _has_fee(state)
        if refused.field in ("captcha", "payment"):
            form = forms.check_form(with_fee)
            field = getattr(form, "altcha" if refused.field == "captcha" else refused.field, None)
            if field is None:
                return _check_page(state, forms.check_form(with_fee, formdata=None), refused.message)
            field.errors = [refused.message]
            return _check_page(state, form)
        if refused.field not in FIELD_STEP:
            return _check_page(state, forms.check_form(with_fee, formdata=None), refused.message)
        return _send_to_field(refused)
    session.pop(WIZARD, None)
    session[DONE] = {"reference": held.booking.reference, "sealed": _seal(held.manage_token)}
    return redirect(url_for(".book_done"))


# -- just taken: the nearest free times -----------------------------------------------------------------------


def _taken_page(state: dict[str, Any], taken: SlotTaken, form: forms.PickNearestForm | None = None):
    location_id = int(state["location_id"])
    # Nearest first is how the engine finds them; in time order they are easier to compare.
    nearest = sorted(taken.nearest or availability.nearest_free(location_id, _items(state), taken.start))
    form = form or forms.PickNearestForm(formdata=None)
    form.start.choices = [(iso(start), slot_label(start)) for start in nearest]
    return render_template(
        "appointments/book_taken.html",
        form=form,
        taken_start=taken.start,
        summary=_summary(state),
        captcha=_captcha(location_id),
    ), 409


@bp.post("/buchen/andere-zeit")
@limiter.limit(_booking_limit, scope=lambda _endpoint: "web:booking")
@access.public
def book_nearest():
    state = _state()
    missing = _missing(state)
    if missing is not None:
        return missing
    form = forms.PickNearestForm()
    start = parse_iso(form.start.data)
    if not form.validate_on_submit() or start is None:
        taken = SlotTaken(parse_iso(state.get("start")) or start or datetime.now().astimezone(), [])
        if not form.start.errors:
            form.start.errors = [_("Bitte wählen Sie eine der freien Zeiten aus.")]
        return _taken_page(state, taken, form)
    state["start"] = iso(start)
    _save(state)
    return _hold(state, start, form.altcha.data)


# -- booked ---------------------------------------------------------------------------------------------------


def _fernet() -> Fernet:
    key = hashlib.sha256(b"appointments-done:" + str(current_app.config["SECRET_KEY"]).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def _done_booking():
    """The booking just made in this browser session, with its manage token; 404 when there is none."""
    done = session.get(DONE)
    if not done:
        abort(404)
    try:
        token = _fernet().decrypt(done["sealed"].encode()).decode()
        return booking_service.find_booking(done["reference"], token), token
    except (InvalidToken, NotFound, KeyError):
        abort(404)


@bp.get("/buchen/gebucht")
@access.public
def book_done():
    found, token = _done_booking()
    needs_confirmation = found.status == "reserved"
    fee = fees.booking_fee(found)
    response = make_response(
        render_template(
            "appointments/book_done.html",
            booking=found,
            details=booking_details(found, facts=True),
            fee=fee,
            # Paying waits for the confirmation by mail: a booking not confirmed in time is released.
            pay_url=None if needs_confirmation else fee_payments.payment_path(fee),
            needs_confirmation=needs_confirmation,
            check_in_code=qr.qr_svg(found.reference or ""),
            # The manage link carries the token that also confirms; it is shown only where no confirmation is due.
            manage_url=None if needs_confirmation else url_for(".manage", reference=found.reference, token=token),
        )
    )
    # The page shows the manage link with its token: it must not stay in a shared computer's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/buchen/gebucht/termin.ics")
@access.public
def book_done_ics():
    found, _token = _done_booking()
    return ics_response(booking_calendar(found, "REQUEST"), found.reference)
