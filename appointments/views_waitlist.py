"""Waitlist and reminder pages: join the list, view or leave one's place, answer an offer, answer a reminder.

Routes on the "appointments" blueprint (imported at the end of views.py). The id/reference and token in the
address authorise; a wrong pair is a 404 that does not say which part was wrong. Nothing changes on GET:
mail scanners and link previews follow links, so every change needs the button (POST) on the page.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from appointments import waitlist_forms as forms
from appointments.errors import BookingError, NotFound
from appointments.models import WaitlistStatus
from appointments.services import reminders, waitlist
from appointments.views import booking_details, bp
from portal import access
from portal.actors import current_actor
from portal.extensions import limiter

# Joining is cheap for a bot; the per-address cap in the service does the rest.
JOIN_LIMIT = "30/hour"


def parse_day(value: str | None) -> date | None:
    """2026-12-01 (what a date input sends) or 1.12.2026 (what a person types without one)."""
    value = (value or "").strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _service_triples(choices: waitlist.Choices) -> list[tuple[int, str, int]]:
    return [(s.id, s.name, s.max_quantity) for s in choices.services]


# -- join ------------------------------------------------------------------------------------------------------


@bp.route("/warteliste", methods=["GET", "POST"])
@limiter.limit(JOIN_LIMIT, scope=lambda _endpoint: "web:waitlist", methods=["POST"])
@access.public
def waitlist_join():
    choices = waitlist.choices()
    form = forms.join_form(_service_triples(choices))
    form.locations.choices = [(c.id, c.name) for c in choices.locations]
    if request.method == "GET" and current_user.is_authenticated:
        form.name.data = form.name.data or getattr(current_user, "display_name", "") or None
        form.email.data = form.email.data or current_user.email
    status = 200
    if form.validate_on_submit():
        try:
            joined = waitlist.join_waitlist(
                current_actor(),
                items=form.chosen(),
                location_ids=form.locations.data or [],
                first_day=parse_day(form.first_day.data),
                last_day=parse_day(form.last_day.data),
                name=form.name.data or "",
                email=form.email.data or "",
                phone=form.phone.data,
                language=str(get_locale() or "de"),
                user_id=current_user.id if current_user.is_authenticated else None,
            )
        except BookingError as refused:
            target = getattr(form, refused.field, None) or form.services
            target.errors = [*list(target.errors), refused.message]
            status = 422
        else:
            flash(_("Sie stehen jetzt auf der Warteliste. Wir haben Ihnen eine E-Mail geschickt."), "success")
            return redirect(url_for(".waitlist_entry", entry_id=joined.entry.id, token=joined.token))
    elif request.method == "POST":
        status = 422
        if not form.chosen():
            form.services.errors = [_("Bitte wählen Sie mindestens eine Leistung aus.")]
    for day_field in (form.first_day, form.last_day):
        # A date input shows only ISO dates; a typed 1.12.2026 would vanish on the page with the errors.
        parsed = parse_day(day_field.data)
        if parsed is not None:
            day_field.data = parsed.isoformat()
    services = {s.id: s for s in choices.services}
    return render_template("appointments/waitlist/join.html", form=form, services=services), status


# -- one's place on the list -----------------------------------------------------------------------------------


def _entry(entry_id: int, token: str) -> Any:
    try:
        return waitlist.find_entry(entry_id, token)
    except NotFound:
        abort(404)


STATUS_TEXTS = {
    WaitlistStatus.WAITING: _l("Sie stehen auf der Warteliste."),
    WaitlistStatus.OFFERED: _l("Wir haben Ihnen einen Termin angeboten. Bitte sehen Sie in Ihre E-Mails."),
    WaitlistStatus.BOOKED: _l("Sie haben einen angebotenen Termin angenommen."),
    WaitlistStatus.EXPIRED: _l("Der Zeitraum ist vorbei; Ihr Platz auf der Warteliste ist beendet."),
    WaitlistStatus.CANCELLED: _l("Ihr Platz auf der Warteliste ist beendet."),
}


@bp.get("/warteliste/<int:entry_id>/<token>")
@access.public
def waitlist_entry(entry_id: int, token: str):
    entry = _entry(entry_id, token)
    services, locations = waitlist.describe(entry)
    return render_template(
        "appointments/waitlist/entry.html",
        entry=entry,
        services=services,
        locations=locations,
        status_text=str(STATUS_TEXTS.get(entry.status, "")),
        open=entry.status in waitlist.OPEN_STATUSES,
        form=forms.LeaveForm(),
        token=token,
    )


@bp.post("/warteliste/<int:entry_id>/<token>/verlassen")
@access.public
def waitlist_leave(entry_id: int, token: str):
    _entry(entry_id, token)
    if forms.LeaveForm().validate_on_submit():
        try:
            waitlist.leave_waitlist(entry_id, token)
        except NotFound:
            abort(404)
        flash(_("Sie stehen nicht mehr auf der Warteliste."), "success")
    return redirect(url_for(".waitlist_entry", entry_id=entry_id, token=token))


# -- an offer --------------------------------------------------------------------------------------------------


def _offer(reference: str, token: str) -> Any:
    try:
        return waitlist.find_offer(reference, token)
    except NotFound:
        abort(404)


def _render_offer(reference: str, token: str, error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    offer = _offer(reference, token)
    return render_template(
        "appointments/waitlist/offer.html",
        offer=offer,
        booking=offer.booking,
        details=booking_details(offer.booking),
        accept_form=forms.AcceptForm(),
        decline_form=forms.DeclineForm(),
        error=error,
        reference=reference,
        token=token,
    ), status


@bp.get("/angebot/<reference>/<token>")
@access.public
def waitlist_offer(reference: str, token: str):
    return _render_offer(reference, token)


@bp.post("/angebot/<reference>/<token>/annehmen")
@access.public
def waitlist_accept(reference: str, token: str):
    _offer(reference, token)
    if not forms.AcceptForm().validate_on_submit():
        return _render_offer(reference, token, _("Bitte versuchen Sie es noch einmal."), 400)
    try:
        waitlist.accept_offer(reference, token)
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _render_offer(reference, token, refused.message, 409)
    flash(_("Vielen Dank. Der Termin ist für Sie gebucht."), "success")
    return redirect(url_for(".manage", reference=reference, token=token))


@bp.post("/angebot/<reference>/<token>/ablehnen")
@access.public
def waitlist_decline(reference: str, token: str):
    _offer(reference, token)
    form = forms.DeclineForm()
    if not form.validate_on_submit():
        return _render_offer(reference, token, _("Bitte versuchen Sie es noch einmal."), 400)
    try:
        waitlist.decline_offer(reference, token, keep=bool(form.keep.data))
    except NotFound:
        abort(404)
    except BookingError as refused:
        return _render_offer(reference, token, refused.message, 409)
    if form.keep.data:
        flash(_("Sie haben das Angebot abgelehnt und bleiben auf der Warteliste."), "success")
    else:
        flash(_("Sie haben das Angebot abgelehnt. Ihr Platz auf der Warteliste ist beendet."), "success")
    return redirect(url_for(".waitlist_offer", reference=reference, token=token))


# -- reminder links --------------------------------------------------------------------------------------------


def _reminded(reference: str, token: str, purpose: str) -> Any:
    try:
        return reminders.find_for_reminder(reference, token, purpose)
    except NotFound:
        abort(404)


@bp.route("/erinnerung/<reference>/<token>/komme", methods=["GET", "POST"])
@access.public
def reminder_attend(reference: str, token: str):
    booking = _reminded(reference, token, reminders.ATTEND)
    form = forms.ReminderForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            reminders.confirm_attendance(reference, token)
        except NotFound:
            abort(404)
        flash(_("Vielen Dank für Ihre Rückmeldung. Wir freuen uns auf Ihren Besuch."), "success")
        return redirect(url_for(".reminder_attend", reference=reference, token=token))
    return render_template(
        "appointments/reminder/attend.html",
        booking=booking,
        details=booking_details(booking),
        form=form,
        possible=reminders.attendable(booking),
    )


@bp.route("/erinnerung/<reference>/<token>/freigeben", methods=["GET", "POST"])
@access.public
def reminder_release(reference: str, token: str):
    booking = _reminded(reference, token, reminders.RELEASE)
    form = forms.ReminderForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            reminders.release_by_reminder(reference, token)
        except NotFound:
            abort(404)
        except BookingError as refused:
            error = refused.message
        else:
            flash(_("Ihr Termin ist freigegeben. Vielen Dank, dass Sie Bescheid gegeben haben."), "success")
            return redirect(url_for(".reminder_release", reference=reference, token=token))
        booking = _reminded(reference, token, reminders.RELEASE)
    return render_template(
        "appointments/reminder/release.html",
        booking=booking,
        details=booking_details(booking),
        form=form,
        possible=reminders.attendable(booking),
        error=error,
    ), (409 if error else 200)
