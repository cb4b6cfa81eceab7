"""Forms of the admin area. They check the shape of the input; the services check the rules again."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp, ValidationError

from portal.admin.services import department_roles, global_roles, role_labels
from portal.forms import ConfirmForm  # noqa: F401  (re-exported for the admin views)


def parse_decimal(value: str | float | None) -> float | None:
    """'51,0504' and '51.0504' both mean 51.0504; empty means no value. A number is taken as it is (a form
    filled from the stored location and posted without the field keeps the stored float)."""
    if isinstance(value, int | float):
        return float(value)
    text = (value or "").strip().replace(",", ".")
    if not text:
        return None
    return float(text)


class Coordinate:
    def __init__(self, low: float, high: float, message: Any) -> None:
        self.low, self.high, self.message = low, high, message

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        try:
            number = parse_decimal(field.data)
        except ValueError:
            raise ValidationError(_l("Geben Sie eine Zahl ein, z. B. 51,0504.")) from None
        if number is not None and not self.low <= number <= self.high:
            raise ValidationError(self.message)


class DepartmentForm(FlaskForm):
    slug = StringField(
        _l("Kurzbezeichnung"),
        validators=[
            DataRequired(_l("Geben Sie eine Kurzbezeichnung ein.")),
            Length(max=64),
            Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Nur Kleinbuchstaben, Ziffern und Bindestriche.")),
        ],
    )
    name = StringField(
        _l("Name des Amts"), validators=[DataRequired(_l("Geben Sie den Namen des Amts ein.")), Length(max=200)]
    )
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[Optional(), Email(_l("Geben Sie eine gültige E-Mail-Adresse ein.")), Length(max=254)],
    )
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=64)])


class LocationForm(FlaskForm):
    name = StringField(
        _l("Name des Standorts"),
        validators=[DataRequired(_l("Geben Sie den Namen des Standorts ein.")), Length(max=200)],
    )
    street = StringField(
        _l("Straße und Hausnummer"),
        validators=[DataRequired(_l("Geben Sie Straße und Hausnummer ein.")), Length(max=200)],
    )
    postcode = StringField(
        _l("Postleitzahl"),
        validators=[
            DataRequired(_l("Geben Sie die Postleitzahl ein.")),
            Regexp(r"^\d{5}$", message=_l("Die Postleitzahl hat genau 5 Ziffern.")),
        ],
    )
    city = StringField(
        lazy_pgettext("address", "Ort"), validators=[DataRequired(_l("Geben Sie den Ort ein.")), Length(max=100)]
    )
    latitude = StringField(
        _l("Breitengrad"),
        validators=[Optional(), Coordinate(-90, 90, _l("Der Breitengrad liegt zwischen -90 und 90."))],
    )
    longitude = StringField(
        _l("Längengrad"),
        validators=[Optional(), Coordinate(-180, 180, _l("Der Längengrad liegt zwischen -180 und 180."))],
    )
    notes = TextAreaField(_l("Hinweise für Besucherinnen und Besucher"), validators=[Optional(), Length(max=2000)])


class CatalogueForm(FlaskForm):
    name = StringField(
        _l("Name der Leistung"),
        validators=[DataRequired(_l("Geben Sie den Namen der Leistung ein.")), Length(max=200)],
    )
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=5000)])
    department_id = SelectField(
        _l("Zuständiges Amt"), coerce=int, validators=[InputRequired(_l("Wählen Sie das zuständige Amt."))]
    )
    leika_key = StringField(
        _l("LeiKa-Schlüssel"),
        validators=[Optional(), Regexp(r"^\d{14}$", message=_l("Der LeiKa-Schlüssel hat genau 14 Ziffern."))],
    )
    bring = TextAreaField(_l("Bitte mitbringen"), validators=[Optional(), Length(max=2000)])
    fee_kind = RadioField(
        _l("Gebühr"),
        choices=[
            ("unknown", _l("Keine Angabe")),
            ("free", _l("Gebührenfrei")),
            ("fixed", _l("Fester Betrag")),
            ("varies", _l("Je nach Fall verschieden")),
        ],
        default="unknown",
        # The service checks the choice and names this field; a post without it means "Keine Angabe".
        validate_choice=False,
    )
    fee_amount = StringField(_l("Betrag in Euro"), validators=[Optional(), Length(max=12)])
    name_en = StringField(_l("Name auf Englisch"), validators=[Optional(), Length(max=200)])
    description_en = TextAreaField(_l("Beschreibung auf Englisch"), validators=[Optional(), Length(max=5000)])
    bring_en = TextAreaField(_l("Bitte mitbringen, auf Englisch"), validators=[Optional(), Length(max=2000)])


def _role_choices(roles: list[str]) -> list[tuple[str, Any]]:
    labels = role_labels()
    return [(role, labels[role]) for role in roles]


class _PersonRoleForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Geben Sie die E-Mail-Adresse ein.")),
            Email(_l("Geben Sie eine gültige E-Mail-Adresse ein.")),
            Length(max=254),
        ],
    )
    role = SelectField(_l("Rolle"), validators=[DataRequired(_l("Wählen Sie eine Rolle."))])


class DepartmentRoleForm(_PersonRoleForm):
    """Invite to, or grant, a role in one department."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices(department_roles())


class GlobalRoleForm(_PersonRoleForm):
    """Invite to, or grant, a role that holds across departments (platform_admin only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices(global_roles())


class RevokeRoleForm(FlaskForm):
    user_id = IntegerField(validators=[InputRequired()])
    role = HiddenField(validators=[DataRequired()])
