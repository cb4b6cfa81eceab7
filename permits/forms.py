"""Flask-WTF forms of the applicant's pages: one form per section of the task list, the fee calculator, uploads.

The forms check only the shape of what is typed (required, a date, a number); the rules (known street, end not
before start, area, lead time) are the service's (permits.services), whose field errors the views put next to the
field of the same name. Field names match permits.services.form_data.ApplicationData.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput

from permits.attachments import KINDS
from portal.files.forms import UploadField
from portal.files.policy import MB, UploadPolicy
from portal.maps.fields import GeoJSONField
from portal.maps.geojson import Geometry

EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# What the upload field says before anyone chooses a file: the widest of the kinds' policies.
ANY_DOCUMENT = UploadPolicy(max_bytes=10 * MB, max_pdf_pages=30)


class DayField(Field):
    """A calendar day typed as 2026-06-01 (what <input type=date> sends) or 01.06.2026; a German error otherwise."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.raw = ""

    def _value(self) -> str:
        if self.raw:
            return self.raw
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = str(valuelist[0]).strip()[:20] if valuelist else ""
        self.data = None
        if not self.raw:
            return
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                self.data = datetime.strptime(self.raw, pattern).date()
                return
            except ValueError:
                continue
        raise ValueError(str(_l("Bitte geben Sie ein gültiges Datum an, zum Beispiel 01.06.2026.")))


def _required(message: Any) -> list[Any]:
    return [DataRequired(message)]


class StartForm(FlaskForm):
    """ "Antrag beginnen": a draft for the person, or for the business they act for."""

    use_type = StringField(validators=[Optional(), Length(max=40)])


class ApplicantForm(FlaskForm):
    applicant_name = StringField(
        _l("Name der antragstellenden Person oder Firma"),
        validators=[*_required(_l("Bitte geben Sie den Namen an.")), Length(max=200)],
    )
    applicant_address = StringField(
        _l("Anschrift"),
        validators=[
            *_required(_l("Bitte geben Sie die Anschrift an, an die wir den Bescheid richten.")),
            Length(max=300),
        ],
    )
    applicant_email = StringField(
        _l("E-Mail-Adresse"),
        validators=[
            *_required(_l("Bitte geben Sie eine E-Mail-Adresse an.")),
            Regexp(EMAIL_RE, message=_l("Bitte geben Sie eine E-Mail-Adresse wie name@example.org an.")),
            Length(max=254),
        ],
    )
    applicant_phone = StringField(_l("Telefonnummer"), validators=[Optional(), Length(max=40)])
    responsible_name = StringField(
        _l("Verantwortliche Person vor Ort"),
        validators=[*_required(_l("Bitte nennen Sie die verantwortliche Person vor Ort.")), Length(max=200)],
    )
    responsible_phone = StringField(
        _l("Telefonnummer der verantwortlichen Person"),
        validators=[
            *_required(_l("Bitte geben Sie an, wie wir die verantwortliche Person erreichen.")),
            Length(max=40),
        ],
    )


class UseTypeForm(FlaskForm):
    use_type = RadioField(
        _l("Wofür möchten Sie die Straße nutzen?"),
        validators=[InputRequired(_l("Bitte wählen Sie die Art der Nutzung."))],
        validate_choice=False,  # the service refuses an unknown use type with its own message
    )
    description = TextAreaField(
        _l("Beschreibung"), validators=[Optional(), Length(max=5000, message=_l("Höchstens 5.000 Zeichen."))]
    )


class PlaceField(GeoJSONField):
    """The optional area on the map. The street is checked against the department's street-to-zone list by the
    service; the map only adds the exact place, so the street text is not geocoded into a point of its own."""

    def _resolve(self, source: str, value: str) -> Geometry:
        if source == "address":
            # No place from the street text (see above): the field then holds nothing.
            return None  # type: ignore[return-value]
        return super()._resolve(source, value)


class PlaceForm(FlaskForm):
    street = StringField(_l("Straße"), validators=[*_required(_l("Bitte geben Sie die Straße an.")), Length(max=200)])
    house_number = StringField(
        _l("Hausnummer"), validators=[*_required(_l("Bitte geben Sie die Hausnummer an.")), Length(max=12)]
    )
    location_geojson = PlaceField(
        _l("Fläche auf der Karte"), geometry="polygon", address_field="street", validators=[Optional()]
    )


class PeriodForm(FlaskForm):
    start = DayField(_l("Erster Tag der Nutzung"), validators=_required(_l("Bitte geben Sie den ersten Tag an.")))
    end = DayField(_l("Letzter Tag der Nutzung"), validators=_required(_l("Bitte geben Sie den letzten Tag an.")))
    setup_from = DayField(_l("Aufbau ab"), validators=[Optional()])
    teardown_until = DayField(_l("Abbau bis"), validators=[Optional()])
    length_m = StringField(
        _l("Länge in Metern"),
        validators=[*_required(_l("Bitte geben Sie die Länge an.")), Length(max=20)],
    )
    width_m = StringField(
        _l("Breite in Metern"), validators=[*_required(_l("Bitte geben Sie die Breite an.")), Length(max=20)]
    )


class TrafficForm(FlaskForm):
    carriageway_affected = BooleanField(_l("Fahrbahn"))
    footway_affected = BooleanField(_l("Gehweg oder Radweg"))


class ExemptionForm(FlaskForm):
    exemption_reason = RadioField(
        _l("Beantragen Sie eine Befreiung von der Gebühr?"),
        validators=[InputRequired(_l("Bitte wählen Sie, ob Sie eine Befreiung beantragen."))],
        validate_choice=False,
    )
    exemption_note = TextAreaField(
        _l("Begründung"), validators=[Optional(), Length(max=1000, message=_l("Höchstens 1.000 Zeichen."))]
    )

    def validate_exemption_note(self, field: Any) -> None:
        if self.exemption_reason.data and not (field.data or "").strip():
            raise ValidationError(_l("Bitte begründen Sie, warum die Nutzung befreit sein soll."))


class UploadForm(FlaskForm):
    kind = SelectField(
        _l("Art der Unterlage"),
        choices=[SelectChoice(code, kind.label) for code, kind in KINDS.items()],  # type: ignore[arg-type]
        validators=[InputRequired(_l("Bitte wählen Sie, was die Datei enthält."))],
    )
    file = UploadField(_l("Datei"), policy=ANY_DOCUMENT)


class PreviewForm(FlaskForm):
    """The fee calculator: a GET form (it changes nothing), usable before signing in and without JavaScript."""

    class Meta:
        csrf = False

    use_type = SelectField(
        _l("Art der Nutzung"), validators=[InputRequired(_l("Bitte wählen Sie die Art der Nutzung."))]
    )
    street = StringField(_l("Straße"), validators=[*_required(_l("Bitte geben Sie die Straße an.")), Length(max=200)])
    area_m2 = StringField(
        _l("Fläche in m²"), validators=[*_required(_l("Bitte geben Sie die Fläche an.")), Length(max=20)]
    )
    start = DayField(_l("Erster Tag"), validators=_required(_l("Bitte geben Sie den ersten Tag an.")))
    end = DayField(_l("Letzter Tag"), validators=_required(_l("Bitte geben Sie den letzten Tag an.")))
