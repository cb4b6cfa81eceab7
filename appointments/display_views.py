"""Waiting-room screens (/schalter/N/bildschirme, /schalter/N/anzeige/<token>): department admins make and
revoke display links; a screen opened with one shows that location's call display as a kiosk page (no
navigation, large type, reloading itself), with no sign-in on the screen. The staff view /schalter/N/anzeige
stays as it was."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from appointments.desk_forms import DisplayTokenForm
from appointments.desk_views import DISPLAY_REFRESH_SECONDS, bp, desk_staff
from appointments.services import desk, display_tokens
from portal import access
from portal.actors import current_actor


def _screens_page(location_id: int, form: DisplayTokenForm, new_link: str | None = None, status: int = 200):
    actor = current_actor()
    location, _settings = desk.desk_location(actor, location_id)
    return render_template(
        "appointments/desk/screens.html",
        location=location,
        form=form,
        tokens=display_tokens.tokens_of(actor, location_id),
        new_link=new_link,
        may_close=desk.may_close_days(actor, location),
        here="screens",
    ), status


@bp.get("/<int:location_id>/bildschirme")
@desk_staff
def screens(location_id: int):
    return _screens_page(location_id, DisplayTokenForm())


@bp.post("/<int:location_id>/bildschirme")
@desk_staff
def screens_create(location_id: int):
    form = DisplayTokenForm()
    if not form.validate_on_submit():
        return _screens_page(location_id, form, status=422)
    made = display_tokens.create_token(current_actor(), location_id, form.label.data or "")
    link = url_for("desk.kiosk", location_id=location_id, token=made.token, _external=True)
    # Shown once, on this page (not in a flash message, which would sit in the session cookie).
    response = make_response(_screens_page(location_id, DisplayTokenForm(formdata=None), new_link=link))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:location_id>/bildschirme/<int:token_id>/widerrufen")
@desk_staff
def screens_revoke(location_id: int, token_id: int):
    row = display_tokens.revoke_token(current_actor(), location_id, token_id)
    flash(
        _("Der Anzeige-Link „%(label)s“ ist widerrufen; der Bildschirm zeigt nichts mehr an.", label=row.label),
        "success",
    )
    return redirect(url_for("desk.screens", location_id=location_id))


@bp.get("/<int:location_id>/anzeige/<token>")
@access.public
def kiosk(location_id: int, token: str):
    display_tokens.location_for_token(location_id, token)
    response = make_response(render_template("appointments/desk/kiosk.html", display=desk.call_display(location_id)))
    response.headers["Refresh"] = str(DISPLAY_REFRESH_SECONDS)
    response.headers["Referrer-Policy"] = "no-referrer"  # the address is the screen's key
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
