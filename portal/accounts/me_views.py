"""Mein Konto: overview, profile, security (two-factor, sessions, password), data export, deletion."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal import access
from portal.accounts.forms import (
    ChangePasswordForm,
    DisableTotpCodeForm,
    DisableTotpForm,
    ProfileForm,
    delete_account_form,
)
from portal.accounts.services import organisations, passwords, profile, totp
from portal.accounts.services.common import AccountError, NotAllowedError
from portal.actors import current_actor
from portal.extensions import limiter
from portal.timeutil import to_berlin

bp = Blueprint("me", __name__, url_prefix="/konto")

# The audit log page is built by another part of the portal; we only link to its path.
PROTOCOL_PATH = "/konto/protokoll"


@bp.context_processor
def _helpers() -> dict:
    def berlin(value: datetime | None) -> str:
        return to_berlin(value).strftime("%d.%m.%Y, %H:%M") if value else "–"

    return {"berlin": berlin}


@bp.get("/")
@access.signed_in
def index():
    actor = current_actor()
    return render_template(
        "me/index.html",
        user=actor.user,
        memberships=organisations.my_organisations(actor),
        protocol_path=PROTOCOL_PATH,
        service_links=current_app.extensions.get("stadtportal_account_links", []),
    )


@bp.route("/profil", methods=["GET", "POST"])
@access.signed_in
def profile_page():
    actor = current_actor()
    user = actor.user
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        try:
            changed = profile.update_profile(actor, form.display_name.data or "", form.language.data or "de")
        except AccountError as error:
            form.language.errors = [*form.language.errors, error.message]
        else:
            flash(_("Ihre Angaben sind gespeichert.") if changed else _("Es gab nichts zu ändern."), "success")
            return redirect(url_for(".profile_page"))
    return render_template("me/profile.html", form=form)


def _disable_totp_form(**kwargs: Any) -> DisableTotpCodeForm:
    """With the password field only where the account has a password (OIDC-made accounts have none)."""
    user = current_actor().user
    form_class = DisableTotpForm if user is not None and user.password_hash else DisableTotpCodeForm
    return form_class(prefix="totp", **kwargs)


def _security_page(
    password_form: ChangePasswordForm | None = None, totp_form: DisableTotpCodeForm | None = None, status: int = 200
):
    return (
        render_template(
            "me/security.html",
            status=profile.security_status(current_actor()),
            password_form=password_form or ChangePasswordForm(prefix="pw", formdata=None),
            totp_form=totp_form or _disable_totp_form(formdata=None),
        ),
        status,
    )


@bp.get("/sicherheit")
@access.signed_in
def security():
    return _security_page()


@bp.post("/sicherheit/zwei-faktor/ausschalten")
@limiter.limit("10 per minute")
@access.signed_in
def disable_totp():
    form = _disable_totp_form()
    if form.validate_on_submit():
        password = form.current_password if isinstance(form, DisableTotpForm) else None
        try:
            totp.disable_totp(current_actor(), password.data if password else None, form.code.data or "")
        except NotAllowedError:
            abort(403)
        except totp.PasswordError as error:
            if password is None:
                raise
            password.errors = [*password.errors, error.message]
        except AccountError as error:
            form.code.errors = [*form.code.errors, error.message]
        else:
            flash(_("Die Zwei-Faktor-Authentisierung ist ausgeschaltet."), "success")
            return redirect(url_for(".security"))
    return _security_page(totp_form=form, status=422)


@bp.post("/sicherheit/passwort")
@access.signed_in
def change_password():
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            passwords.change_password(current_actor(), form.current_password.data or "", form.password.data or "")
        except AccountError as error:
            form.current_password.errors = [*form.current_password.errors, error.message]
        else:
            flash(_("Ihr Passwort ist geändert. Andere Geräte wurden abgemeldet."), "success")
            return redirect(url_for(".security"))
    return _security_page(password_form=form, status=422)


@bp.post("/sicherheit/sitzungen/<int:session_id>/beenden")
@access.signed_in
def revoke_session(session_id: int):
    try:
        profile.revoke_session(current_actor(), session_id)
    except AccountError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Die Sitzung ist beendet."), "success")
    return redirect(url_for(".security"))


@bp.post("/sicherheit/sitzungen/andere-beenden")
@access.signed_in
def revoke_other_sessions():
    count = profile.revoke_other_sessions(current_actor())
    flash(_("%(count)s andere Sitzung(en) beendet.", count=count), "success")
    return redirect(url_for(".security"))


@bp.post("/sicherheit/wiederherstellungscodes")
@access.signed_in
def regenerate_recovery_codes():
    try:
        codes = totp.regenerate_recovery_codes(current_actor())
    except AccountError as error:
        flash(str(error.message), "danger")
        return redirect(url_for(".security"))
    return render_template("accounts/recovery_codes.html", codes=codes, first_setup=False)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/daten")
@access.signed_in
def export():
    """The readable summary of everything stored about the person, with the two downloads."""
    summary = profile.export_summary(current_actor(), "html")
    return _private(Response(render_template("me/export.html", summary=summary)))


@bp.get("/daten.json")
@access.signed_in
def export_json():
    data = profile.export_data(current_actor(), "json")
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="stadtportal-meine-daten.json"'
    return _private(response)


@bp.get("/daten-csv.zip")
@access.signed_in
def export_csv():
    """The same data as the JSON file, as CSV tables in a zip (one file per list, e.g. the bookings)."""
    from portal.gdpr.tables import csv_zip

    response = Response(csv_zip(profile.export_data(current_actor(), "csv")), mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="stadtportal-meine-daten-csv.zip"'
    return _private(response)


@bp.get("/daten.pdf")
@limiter.limit("10 per minute")  # rendering takes a moment; nobody needs their summary more often
@access.signed_in
def export_pdf():
    pdf = profile.export_pdf(current_actor(), str(get_locale() or "de"))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="stadtportal-meine-daten.pdf"'
    return _private(response)


@bp.route("/loeschen", methods=["GET", "POST"])
@access.signed_in
def delete():
    actor = current_actor()
    has_password = actor.user is not None and actor.user.password_hash is not None
    form = delete_account_form(has_password)
    blocking = None
    if form.validate_on_submit():
        try:
            done = profile.delete_account(actor, form.password.data if has_password else None)
        except profile.SoleOwnerError as error:
            blocking = error
        except AccountError as error:
            form.password.errors = [*form.password.errors, error.message]
        else:
            return render_template("me/deleted.html", done=done)
    status = 409 if blocking is not None else 200
    return render_template(
        "me/delete.html",
        form=form,
        has_password=has_password,
        blocking=blocking,
        consequences=profile.deletion_preview(actor),
    ), status
