"""Forms of the data-access staff pages: the catalogue, agreements, break-glass and the dpo's review.

They check the shape of the input; the services (dataaccess.services.*) check the rules again, so the API and
the pages agree. Field names follow the services' `DataAccessError.field`, so a refusal lands next to the
field it concerns. Choices that depend on the person or the dataset are filled in by the views.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.forms import MultiCheckboxField

_WHOLE_NUMBER = _l("Geben Sie eine ganze Zahl ein.")


class DatasetForm(FlaskForm):
    department_id = SelectField(
        _l("Amt, dem die Daten gehören"), coerce=int, validators=[InputRequired(_l("Wählen Sie das Amt."))]
    )
    key = StringField(_l("Schlüssel"), validators=[InputRequired(_l("Geben Sie einen Schlüssel an.")), Length(max=64)])
    name = StringField(
        _l("Bezeichnung"), validators=[InputRequired(_l("Geben Sie eine Bezeichnung an.")), Length(max=200)]
    )
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=4000)])
    subject_kind = RadioField(
        _l("Über wen werden die Daten geführt?"), validators=[InputRequired(_l("Wählen Sie, über wen."))]
    )
    retention_days = IntegerField(
        _l("Aufbewahrungsfrist (Tage)"),
        validators=[InputRequired(_WHOLE_NUMBER), NumberRange(min=1, max=36500, message=_l("1 bis 36500 Tage."))],
    )
    active = BooleanField(_l("Für neue Vereinbarungen und Notfallzugriffe angeboten"), default=True)


class FieldForm(FlaskForm):
    name = StringField(_l("Feldname"), validators=[InputRequired(_l("Geben Sie einen Feldnamen an.")), Length(max=64)])
    label = StringField(
        _l("Bezeichnung"), validators=[InputRequired(_l("Geben Sie eine Bezeichnung an.")), Length(max=200)]
    )
    category = SelectField(
        _l("Kategorie personenbezogener Daten"), validators=[InputRequired(_l("Wählen Sie eine Kategorie."))]
    )
    special_category = BooleanField(_l("Besondere Kategorie (Art. 9 oder 10 DSGVO)"))


class PurposeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(_l("Geben Sie einen Code an.")), Length(max=40)])
    label = StringField(
        _l("Bezeichnung für Bürgerinnen und Bürger"),
        validators=[InputRequired(_l("Geben Sie eine Bezeichnung an.")), Length(max=200)],
    )
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=4000)])
    active = BooleanField(_l("Aktiv (für neue Vereinbarungen wählbar)"), default=True)


class LegalBasisForm(FlaskForm):
    label = StringField(
        _l("Kurzbezeichnung"), validators=[InputRequired(_l("Geben Sie eine Bezeichnung an.")), Length(max=200)]
    )
    citation = TextAreaField(
        _l("Rechtsgrundlage (Zitat)"),
        validators=[InputRequired(_l("Geben Sie die Rechtsgrundlage an.")), Length(max=2000)],
    )
    active = BooleanField(_l("Aktiv (für neue Vereinbarungen wählbar)"), default=True)


class AgreementStartForm(FlaskForm):
    """Step 1 of a new agreement (GET): which department reads which dataset; the fields follow from it."""

    class Meta:
        csrf = False

    consumer_department_id = SelectField(
        _l("Lesendes Amt"), coerce=int, validators=[InputRequired(_l("Wählen Sie das lesende Amt."))]
    )
    dataset_id = SelectField(
        _l("Datenbestand"), coerce=int, validators=[InputRequired(_l("Wählen Sie den Datenbestand."))]
    )


class AgreementForm(FlaskForm):
    fields = MultiCheckboxField(
        _l("Erlaubte Felder"), validators=[InputRequired(_l("Wählen Sie mindestens ein Feld."))]
    )
    purposes = MultiCheckboxField(
        _l("Erlaubte Zwecke"), validators=[InputRequired(_l("Wählen Sie mindestens einen Zweck."))]
    )
    legal_basis_id = SelectField(
        _l("Rechtsgrundlage"), coerce=int, validators=[InputRequired(_l("Wählen Sie eine Rechtsgrundlage."))]
    )
    valid_from = DateField(_l("Gültig ab"), validators=[InputRequired(_l("Geben Sie ein Datum ein."))])
    valid_to = DateField(_l("Gültig bis"), validators=[InputRequired(_l("Geben Sie ein Datum ein."))])
    requires_case_reference = BooleanField(_l("Jeder Abruf nennt ein Aktenzeichen"), default=True)
    requires_citizen_request = BooleanField(_l("Nur auf Antrag der betroffenen Person (Once-Only)"))
    rate_limit_per_hour = IntegerField(
        _l("Höchstens Abrufe je Stunde und Person"),
        default=60,
        validators=[InputRequired(_WHOLE_NUMBER), NumberRange(min=1, max=100_000, message=_l("1 bis 100000."))],
    )
    note = TextAreaField(_l("Begründung für die Freigabe"), validators=[Optional(), Length(max=2000)])


class SubmitForm(FlaskForm):
    reason = TextAreaField(_l("Hinweis an die Entscheidenden"), validators=[Optional(), Length(max=2000)])


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Grund des Widerrufs"), validators=[InputRequired(_l("Geben Sie den Grund an.")), Length(max=2000)]
    )


class BreakGlassForm(FlaskForm):
    department_id = SelectField(_l("Sie lesen für"), coerce=int, validators=[InputRequired(_l("Wählen Sie Ihr Amt."))])
    dataset_id = SelectField(
        _l("Datenbestand"), coerce=int, validators=[InputRequired(_l("Wählen Sie den Datenbestand."))]
    )
    category = RadioField(_l("Art der Notlage"), validators=[InputRequired(_l("Wählen Sie die Art der Notlage."))])
    reason = TextAreaField(
        _l("Begründung"),
        validators=[InputRequired(_l("Beschreiben Sie die Notlage.")), Length(max=2000)],
    )
    case_reference = StringField(_l("Aktenzeichen"), validators=[Optional(), Length(max=60)])


class BreakGlassReadForm(FlaskForm):
    subject = StringField(
        _l("Betroffene Person oder Akte"),
        validators=[InputRequired(_l("Geben Sie an, über wen Sie lesen.")), Length(max=100)],
    )
    fields = MultiCheckboxField(_l("Felder"), validators=[InputRequired(_l("Wählen Sie mindestens ein Feld."))])
    case_reference = StringField(_l("Aktenzeichen"), validators=[Optional(), Length(max=60)])


class ReviewForm(FlaskForm):
    finding = RadioField(
        _l("Ergebnis der Prüfung"),
        choices=[
            SelectChoice("justified", _l("Gerechtfertigt")),  # type: ignore[arg-type]
            SelectChoice("unjustified", _l("Nicht gerechtfertigt")),  # type: ignore[arg-type]
        ],
        validators=[InputRequired(_l("Wählen Sie ein Ergebnis."))],
    )
    note = TextAreaField(_l("Vermerk"), validators=[InputRequired(_l("Begründen Sie Ihr Ergebnis.")), Length(max=2000)])
