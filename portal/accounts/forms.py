"""Flask-WTF forms of the accounts area. Field names are part of the contract with the browser tests."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

PASSWORD_MIN = 12


def _password_rules() -> list:
    return [
        DataRequired(_l("Bitte geben Sie ein Passwort ein.")),
        Length(min=PASSWORD_MIN, max=200, message=_l("Das Passwort muss mindestens 12 Zeichen lang sein.")),
    ]


def _confirm_rules() -> list:
    return [
        DataRequired(_l("Bitte wiederholen Sie das Passwort.")),
        EqualTo("password", _l("Die beiden Passwörter stimmen nicht überein.")),
    ]


def _email_rules() -> list:
    return [
        DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
        Email(
            _l("Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@example.org."),
            check_deliverability=False,
        ),
        Length(max=254),
    ]


class RegisterForm(FlaskForm):
    display_name = StringField(
        _l("Name"), validators=[DataRequired(_l("Bitte geben Sie Ihren Namen ein.")), Length(max=200)]
    )
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_rules())
    password = PasswordField(_l("Passwort"), validators=_password_rules())
    password_confirm = PasswordField(_l("Passwort wiederholen"), validators=_confirm_rules())


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"), validators=[DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")), Length(max=254)]
    )
    password = PasswordField(_l("Passwort"), validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein."))])


class CodeForm(FlaskForm):
    code = StringField(
        _l("Sicherheitscode"),
        validators=[DataRequired(_l("Bitte geben Sie den Code ein.")), Length(max=40)],
    )


class ConfirmEmailForm(FlaskForm):
    """Only the CSRF token: the address is confirmed by pressing the button behind the mailed link."""


class EmailForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=_email_rules())


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("Neues Passwort"), validators=_password_rules())
    password_confirm = PasswordField(_l("Neues Passwort wiederholen"), validators=_confirm_rules())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Bisheriges Passwort"), validators=[DataRequired(_l("Bitte geben Sie Ihr bisheriges Passwort ein."))]
    )
    password = PasswordField(_l("Neues Passwort"), validators=_password_rules())
    password_confirm = PasswordField(_l("Neues Passwort wiederholen"), validators=_confirm_rules())


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Name"), validators=[DataRequired(_l("Bitte geben Sie Ihren Namen ein.")), Length(max=200)]
    )
    language = SelectField(
        _l("Sprache für E-Mails und Seiten"),
        choices=[
            SelectChoice("de", "Deutsch", render_kw={"lang": "de"}),
            SelectChoice("en", "English", render_kw={"lang": "en"}),
        ],
        validators=[DataRequired()],
    )


class DeleteAccountForm(FlaskForm):
    """An account with a password confirms with it (required); one without (signed in by BundID only) has no
    password field at all: see `delete_account_form`."""

    password = PasswordField(
        _l("Ihr Passwort zur Bestätigung"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein, um das Löschen zu bestätigen."))],
    )
    confirm = BooleanField(
        _l("Ich möchte mein Konto löschen und habe verstanden, was aufbewahrt wird."),
        validators=[DataRequired(_l("Bitte bestätigen Sie, dass Sie Ihr Konto löschen möchten."))],
    )


def delete_account_form(has_password: bool) -> DeleteAccountForm:
    form = DeleteAccountForm()
    if not has_password:
        del form.password
    return form


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name der Organisation"),
        validators=[DataRequired(_l("Bitte geben Sie den Namen der Organisation ein.")), Length(max=200)],
    )
    register_number = StringField(_l("Handelsregisternummer"), validators=[Optional(), Length(max=64)])


class InviteForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse der eingeladenen Person"), validators=_email_rules())


class DisableTotpCodeForm(FlaskForm):
    """Switching TOTP off for an account without a password (made through OIDC): the code alone confirms."""

    code = StringField(
        _l("Aktueller Code aus Ihrer App"),
        validators=[DataRequired(_l("Bitte geben Sie den aktuellen Code aus Ihrer App ein.")), Length(max=40)],
    )


class DisableTotpForm(DisableTotpCodeForm):
    current_password = PasswordField(
        _l("Ihr Passwort"), validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein."))]
    )
