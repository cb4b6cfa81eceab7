"""Pages reached by the mailed links (confirm, manage, reschedule, cancel, calendar file) and "Meine Termine".

The reference and token in the address authorise; a wrong pair is a 404 that does not say which part was
wrong. Nothing changes on GET: mail scanners and link previews follow links, so confirming and cancelling
need the button (POST) on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from appointments import forms
from appointments.errors import BookingError, NotFound, SlotTaken
from appointments.ics import booking_calendar
from appointments.models import ACTIVE_STATUSES, BookingStatus
from appointments.services import booking as booking_service
from appointments.services import catalogue, fee_payments, fees, my_bookings, qr
from appointments.views import booking_details, bp, build_calendar, ics_response, iso, long_time, parse_day, parse_iso
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter
from portal.timeutil import as_utc, to_berlin, utcnow

STATUS_LABELS: dict[str, Any] = {
    BookingStatus.RESERVED: _l("Vorgemerkt – bitte bestätigen"),
    BookingStatus.CONFIRMED: _l("Bestätigt"),
    BookingStatus.OFFERED: _l("Angeboten (Warteliste)"),
    BookingStatus.CANCELLED: _l("Abgesagt"),
    BookingStatus.RELEASED: _l("Freigegeben (nicht rechtzeitig bestätigt)"),
    BookingStatus.CHECKED_IN: _l("Eingecheckt"),
    BookingStatus.CALLED: _l("Aufgerufen"),
    BookingStatus.SERVED: _l("Erledigt"),
    BookingStatus.NO_SHOW: _l("Nicht erschienen"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.record_once
def _status_helper(state) -> None:
    state.app.jinja_env.globals["appt_status"] = status_label


@dataclass(frozen=True)
class Door:
    """How a booking's pages were reached: by the mailed link (reference and token) or, token None, by the
    signed-in citizen's account ("Meine Termine"). Its links keep to the same way in."""

    reference: str
    token: str | None = None

    def url(self, page: str, **args: Any) -> str:
        if self.token is None:
            return url_for(f".mine_{page}", reference=self.reference, **args)
        return url_for(f".{page}", reference=self.reference, token=self.token, **args)


def _own(reference: str) -> Any:
    try:
        return my_bookings.own_booking(current_actor(), reference)
    except NotFound:
        abort(404)


def _booking(reference: str, token: str) -> Any:
    try:
        return booking_service.find_booking(reference, token)
    except NotFound:
        abort(404)


def _changeable(found: Any) -> bool:
    """Reschedule and cancel are open while the booking holds its seat and has not started."""
    return found.status in (BookingStatus.RESERVED, BookingStatus.CONFIRMED) and as_utc(found.starts_at) > utcnow()


# -- confirm --------------------------------------------------------------------------------------------------


@bp.route("/bestaetigen/<reference>/<token>", methods=["GET", "POST"])
@access.public
def confirm(reference: str, token: str):
    found = _booking(reference, token)
    form = forms.ConfirmForm()
    error = None
    if found.status == BookingStatus.RESERVED and form.validate_on_submit():
        try:
            booking_service.confirm_booking(reference, token)
        except NotFound:
            abort(404)
        except BookingError as refused:
            error = refused.message
        else:
            flash(_("Vielen Dank. Ihr Termin ist bestätigt."), "success")
            return redirect(url_for(".manage", reference=reference, token=token))
        found = _booking(reference, token)
    return render_template(
        "appointments/confirm.html",
        form=form,
        booking=found,
        details=booking_details(found),
        error=error,
        manage_url=url_for(".manage", reference=reference, token=token),
    ), (422 if error else 200)


# -- manage ---------------------------------------------------------------------------------------------------


@bp.get("/verwalten/<reference>/<token>")
@access.public
def manage(reference: str, token: str):
    return _manage_page(_booking(reference, token), Door(reference, token))


@bp.get("/meine/<reference>")
@access.signed_in
def mine_manage(reference: str):
    return _manage_page(_own(reference), Door(reference))


def _manage_page(found: Any, door: Door):
    fee = fees.booking_fee(found)
    return render_template(
        "appointments/manage.html",
        booking=found,
        details=booking_details(found, facts=True),
        fee=fee,
        pay_url=fee_payments.payment_path(fee) if found.status in ACTIVE_STATUSES else None,
        changeable=_changeable(found),
        needs_confirmation=found.status == BookingStatus.RESERVED,
        check_in_code=qr.qr_svg(found.reference or ""),
        door=door,
    )


@bp.get("/verwalten/<reference>/<token>/termin.ics")
@access.public
def manage_ics(reference: str, token: str) -> Response:
    return _ics(_booking(reference, token), Door(reference, token))


@bp.get("/meine/<reference>/termin.ics")
@access.signed_in
def mine_manage_ics(reference: str) -> Response:
    return _ics(_own(reference), Door(reference))


def _ics(found: Any, door: Door) -> Response:
    method = "REQUEST" if found.status in ACTIVE_STATUSES or found.status == BookingStatus.SERVED else "CANCEL"
    body = booking_calendar(found, method, manage_url=door.url("manage", _external=True))
    return ics_response(body, found.reference)


@bp.route("/verwalten/<reference>/<token>/verschieben", methods=["GET", "POST"])
@limiter.limit(lambda: catalogue.search_rate_limit(None), methods=["GET"])
@access.public
def reschedule(reference: str, token: str):
    return _reschedule(_booking(reference, token), Door(reference, token))


@bp.route("/meine/<reference>/verschieben", methods=["GET", "POST"])
@limiter.limit(lambda: catalogue.search_rate_limit(None), methods=["GET"])
@access.signed_in
def mine_reschedule(reference: str):
    return _reschedule(_own(reference), Door(reference))


def _reschedule(found: Any, door: Door):
    if not _changeable(found):
        return _not_changeable(door)
    items = [(item.catalogue_service_id, item.quantity) for item in found.items]
    form = forms.RescheduleForm(data={} if request.method == "GET" else None)
    day = parse_day(request.args.get("tag"))
    status = 200
    if form.validate_on_submit():
        start = parse_iso(form.start.data)
        try:
            if start is None:
                raise BookingError("start", _("Bitte wählen Sie eine Uhrzeit aus."), "invalid")
            if form.confirmed.data != "ja":
                return _reschedule_check(found, door, start)
            booking_service.reschedule_booking(current_actor(), found, start)
        except SlotTaken as taken:
            form.start.errors = [_slot_taken_message(taken)]
            status = 409
        except BookingError as refused:
            form.start.errors = [refused.message]
            status = 422
        else:
            flash(_("Ihr Termin ist verschoben auf %(time)s.", time=long_time(start)), "success")
            return redirect(door.url("manage"))
        if start is not None:
            day = to_berlin(start).date()
    try:
        calendar = build_calendar(found.location_id, items, parse_day(request.args.get("ab")), day)
    except BookingError as gone:  # the location or a service no longer takes appointments
        flash(gone.message, "warning")
        return redirect(door.url("manage"))
    # The current time is not offered as a new one.
    calendar.without(iso(as_utc(found.starts_at)))
    form.start.choices = calendar.times
    return render_template(
        "appointments/reschedule.html",
        form=form,
        booking=found,
        calendar=calendar,
        day_url=lambda d: door.url("reschedule", ab=calendar.first.isoformat(), tag=d.isoformat()),
        week_url=lambda d: door.url("reschedule", ab=d.isoformat()),
        manage_url=door.url("manage"),
    ), (422 if form.errors and status == 200 else status)


def _reschedule_check(found: Any, door: Door, start: Any):
    """Check answers before the move: the booking as it is, the new time, and the button that moves it."""
    day = to_berlin(start).date().isoformat()
    form = forms.RescheduleForm(formdata=None, data={"start": iso(start), "confirmed": "ja"})
    return render_template(
        "appointments/reschedule_check.html",
        form=form,
        booking=found,
        details=booking_details(found),
        new_start=start,
        change_url=door.url("reschedule", ab=day, tag=day),
        manage_url=door.url("manage"),
    )


def _slot_taken_message(taken: SlotTaken) -> str:
    if taken.nearest:
        times = ", ".join(long_time(start) for start in taken.nearest[:3])
        return _("Diese Zeit wurde gerade vergeben. Frei sind zum Beispiel: %(times)s.", times=times)
    return _("Diese Zeit wurde gerade vergeben. Bitte wählen Sie eine andere.")


@bp.route("/verwalten/<reference>/<token>/absagen", methods=["GET", "POST"])
@access.public
def cancel(reference: str, token: str):
    return _cancel(_booking(reference, token), Door(reference, token))


@bp.route("/meine/<reference>/absagen", methods=["GET", "POST"])
@access.signed_in
def mine_cancel(reference: str):
    return _cancel(_own(reference), Door(reference))


def _cancel(found: Any, door: Door):
    if not _changeable(found):
        return _not_changeable(door)
    form = forms.CancelForm()
    if form.validate_on_submit():
        try:
            booking_service.cancel_booking(current_actor(), found)
        except BookingError as refused:
            flash(refused.message, "danger")
        else:
            flash(_("Ihr Termin ist abgesagt. Wir haben Ihnen eine Bestätigung geschickt."), "success")
            money = fee_payments.settlement_message(fees.booking_fee(found))
            if money:
                flash(money, "info")
        return redirect(door.url("manage"))
    return render_template(
        "appointments/cancel.html",
        form=form,
        booking=found,
        details=booking_details(found),
        # Said before the person confirms: whether the fee comes back.
        preview=fees.cancel_preview(found),
        manage_url=door.url("manage"),
    )


def _not_changeable(door: Door):
    flash(_("Dieser Termin kann nicht mehr geändert werden."), "warning")
    return redirect(door.url("manage"))


# -- Meine Termine --------------------------------------------------------------------------------------------


@bp.get("/meine")
@access.signed_in
def mine():
    actor = current_actor()
    bookings = my_bookings.bookings_of(actor)
    now = utcnow()
    upcoming = sorted(
        (b for b in bookings if b.status in ACTIVE_STATUSES and as_utc(b.ends_at) > now), key=lambda b: b.starts_at
    )
    earlier = [b for b in bookings if b not in upcoming]
    return render_template(
        "appointments/mine.html",
        upcoming=upcoming,
        earlier=earlier,
        details={b.id: booking_details(b) for b in bookings},
        changeable={b.id for b in upcoming if _changeable(b)},
    )


# -- the captcha script ---------------------------------------------------------------------------------------


@bp.get("/captcha.js")
@access.public
def captcha_script() -> Response:
    """Our small ALTCHA solver (proof of work with SHA-256), served from our origin for the CSP."""
    response = Response(render_template("appointments/captcha.js"), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
