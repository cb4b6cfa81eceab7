"""Sign-in, registration, verification, password reset, two-factor authentication, invitations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import access
from portal.accounts.forms import CodeForm, ConfirmEmailForm, EmailForm, LoginForm, RegisterForm, ResetPasswordForm
from portal.accounts.services import invitations, passwords, registration, signin, totp
from portal.accounts.services.common import AccountError, NotAllowedError, local_path
from portal.accounts.services.signin import Outcome
from portal.actors import current_actor
from portal.extensions import limiter

bp = Blueprint("accounts", __name__)

# Registration, password reset and "send the link again" each send a mail to the address typed in: without a
# limit anyone could flood a stranger's mailbox (and our sender reputation). Per address and per client.
MAIL_LIMIT_PER_ADDRESS = "3 per hour"
MAIL_LIMIT_PER_CLIENT = "20 per hour"


def _submitted_address() -> str:
    return (request.form.get("email") or "").strip().lower()


def _mail_limits(view):  # type: ignore[no-untyped-def]
    view = limiter.limit(MAIL_LIMIT_PER_ADDRESS, key_func=_submitted_address, methods=["POST"])(view)
    return limiter.limit(MAIL_LIMIT_PER_CLIENT, methods=["POST"])(view)


def safe_next(value: str | None) -> str | None:
    """Only paths on this site: an open redirect would make our sign-in page a phishing aid."""
    return local_path(value)


def _locked_message(result: signin.SignInResult) -> str:
    return signin.locked_message(result.locked_until)


def start_page_for(user: object) -> str:
    """Where a person lands after signing in: staff on their work (/arbeit), everybody else on Mein Konto."""
    return url_for("work.index") if getattr(user, "is_staff", False) else url_for("me.index")


@bp.route("/anmelden", methods=["GET", "POST"])
@access.public
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or start_page_for(current_user))
    form = LoginForm()
    alert = None
    resend_form = None
    if form.validate_on_submit():
        result = signin.sign_in(form.email.data or "", form.password.data or "", request.remote_addr, next_url)
        if result.outcome is Outcome.SIGNED_IN:
            return redirect(next_url or start_page_for(current_user))
        if result.outcome is Outcome.NEEDS_TOTP:
            return redirect(url_for(".login_totp"))
        if result.outcome is Outcome.LOCKED:
            alert = _locked_message(result)
        elif result.outcome is Outcome.UNVERIFIED:
            resend_form = EmailForm(formdata=None, email=form.email.data)
        else:
            form.email.errors = [*form.email.errors, _("E-Mail-Adresse oder Passwort ist nicht richtig.")]
    return render_template("accounts/login.html", form=form, next=next_url, alert=alert, resend_form=resend_form)


@bp.route("/anmelden/zwei-faktor", methods=["GET", "POST"])
@access.public
def login_totp():
    if signin.pending_user_id() is None:
        if current_user.is_authenticated:
            return redirect(url_for("me.index"))
        flash(_("Bitte melden Sie sich erneut mit E-Mail-Adresse und Passwort an."), "info")
        return redirect(url_for(".login"))
    form = CodeForm()
    alert = None
    if form.validate_on_submit():
        next_url = safe_next(signin.pending_next_url())
        result = signin.complete_totp(form.code.data or "", request.remote_addr)
        if result.outcome is Outcome.SIGNED_IN:
            return redirect(next_url or start_page_for(current_user))
        if result.outcome is Outcome.EXPIRED:
            flash(_("Bitte melden Sie sich erneut mit E-Mail-Adresse und Passwort an."), "info")
            return redirect(url_for(".login"))
        if result.outcome is Outcome.LOCKED:
            alert = _locked_message(result)
        else:
            form.code.errors = [*form.code.errors, _("Der Code ist nicht gültig oder wurde schon verwendet.")]
    return render_template("accounts/login_totp.html", form=form, alert=alert)


@bp.route("/registrieren", methods=["GET", "POST"])
@_mail_limits
@access.public
def register():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("me.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        from flask_babel import get_locale

        registration.register(
            form.display_name.data or "",
            form.email.data or "",
            form.password.data or "",
            str(get_locale() or "de"),
            next_url=next_url,
        )
        return render_template("accounts/check_mail.html", email=form.email.data, purpose="register")
    return render_template("accounts/register.html", form=form, next=next_url)


@bp.route("/email-bestaetigen/<token>", methods=["GET", "POST"])
@access.public
def verify_email(token: str):
    # Opening the link only shows a button: mail scanners follow links, and a scanner at the address
    # of someone whom a stranger registered must not confirm that stranger's account.
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        if registration.verification_link_valid(token):
            return render_template(
                "accounts/verify_email.html", form=form, token=token, next=safe_next(request.args.get("next"))
            )
        return render_template("accounts/link_invalid.html", resend_form=EmailForm(formdata=None)), 404
    if registration.verify_email(token):
        flash(_("Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden."), "success")
        next_url = safe_next(request.args.get("next"))
        return redirect(url_for(".login", next=next_url) if next_url else url_for(".login"))
    return render_template("accounts/link_invalid.html", resend_form=EmailForm(formdata=None)), 404


@bp.route("/email-bestaetigen/erneut-senden", methods=["GET", "POST"])
@_mail_limits
@access.public
def resend_verification():
    form = EmailForm()
    if form.validate_on_submit():
        registration.resend_verification(form.email.data or "")
        return render_template("accounts/check_mail.html", email=form.email.data, purpose="resend")
    return render_template("accounts/resend.html", form=form)


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@_mail_limits
@access.public
def password_forgot():
    form = EmailForm()
    if form.validate_on_submit():
        passwords.request_reset(form.email.data or "")
        return render_template("accounts/check_mail.html", email=form.email.data, purpose="reset")
    return render_template("accounts/password_forgot.html", form=form)


@bp.route("/passwort-zuruecksetzen/<token>", methods=["GET", "POST"])
@access.public
def password_reset(token: str):
    if not passwords.reset_token_is_valid(token):
        return render_template("accounts/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        if passwords.reset_password(token, form.password.data or ""):
            flash(_("Ihr Passwort ist geändert. Bitte melden Sie sich mit dem neuen Passwort an."), "success")
            return redirect(url_for(".login"))
        return render_template("accounts/reset_invalid.html"), 404
    return render_template("accounts/password_reset.html", form=form)


@bp.post("/abmelden")
@access.signed_in_before_mfa
def logout():
    signin.sign_out(current_actor())
    flash(_("Sie sind abgemeldet."), "success")
    return redirect(url_for("pages.home"))


@bp.route("/konto/zwei-faktor/einrichten", methods=["GET", "POST"])
@access.signed_in_before_mfa
def totp_setup():
    actor = current_actor()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = totp.confirm_setup(actor, form.code.data or "")
        except AccountError as error:
            form.code.errors = [*form.code.errors, error.message]
        else:
            return render_template("accounts/recovery_codes.html", codes=codes, first_setup=True)
    setup = totp.begin_setup(actor)
    if setup.enabled:
        flash(_("Die Zwei-Faktor-Authentisierung ist bereits eingerichtet."), "info")
        return redirect(url_for("me.security"))
    return render_template("accounts/totp_setup.html", form=form, setup=setup)


@bp.route("/einladung/<token>", methods=["GET", "POST"])
@access.public
def invitation(token: str):
    offer = invitations.describe_invitation(token)
    if offer is None:
        return render_template("accounts/invitation_invalid.html"), 404
    error = None
    if request.method == "POST":
        if not current_user.is_authenticated:
            return redirect(url_for(".login", next=request.path))
        try:
            accepted = invitations.accept_invitation(current_actor(), token)
        except (AccountError, NotAllowedError) as refusal:
            error = refusal.message
        else:
            flash(_("Sie haben die Einladung angenommen."), "success")
            if accepted.kind == "organisation" and accepted.organisation_id is not None:
                return redirect(url_for("orgs.detail", organisation_id=accepted.organisation_id))
            return redirect(url_for("me.index"))
    return render_template("accounts/invitation.html", offer=offer, token=token, error=error)
