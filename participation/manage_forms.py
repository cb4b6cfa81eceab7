"""Forms of the consultation managers' pages (/admin/beteiligung): a consultation's texts and settings, a phase.

They check the shape of the input; the services (participation.services.consultations / phases) check the rules
again, so the API and the pages agree. Field names follow the services' `ParticipationError.field`, so a
refusal lands next to the field it concerns. Choices that depend on the person are filled in by the views.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from participation.models import TITLE_MAX, Audience, Consultation, PhaseKind
from participation.rules import ACTION_LABELS, ACTIONS
from participation.services.consultations import SUMMARY_MAX, ConsultationDraft
from participation.services.phases import DESCRIPTION_MAX
from participation.text import BODY_MAX
from portal.forms import MultiCheckboxField
from portal.maps.fields import GeoJSONField
from portal.timeutil import BERLIN

# What a datetime-local input sends (the first is also how a value is written back into it), and the German
# way of writing it for browsers that show a plain text box instead.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y, %H:%M"]
_DATETIME_HINT = _l("Geben Sie Datum und Uhrzeit an, z. B. 01.03.2027 09:00.")


def kind_labels() -> dict[str, str]:
    return {
        PhaseKind.INFORMATION: _("Information"),
        PhaseKind.PROPOSALS: _("Vorschläge sammeln"),
        PhaseKind.COMMENTS: _("Diskussion (Kommentare)"),
        PhaseKind.DRAFT: _("Entwurf kommentieren"),
        PhaseKind.SURVEY: _("Umfrage"),
        PhaseKind.VOTING: _("Abstimmung"),
        PhaseKind.RESULTS: _("Ergebnisse"),
    }


def audience_labels() -> dict[str, str]:
    return {
        Audience.SIGNED_IN: _("Angemeldete Bürgerinnen und Bürger"),
        Audience.VERIFIED: _("Nur nachweislich Einwohnerinnen und Einwohner (Anmeldung mit BundID)"),
        Audience.GUESTS: _("Angemeldete, und Gäste dürfen ohne Konto kommentieren (immer vorab geprüft)"),
    }


def state_labels() -> dict[str, str]:
    return {
        "draft": _("Entwurf"),
        "published": _("veröffentlicht"),
        "closed": _("abgeschlossen"),
        "archived": _("archiviert"),
    }


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in labels.items()]


class ConsultationForm(FlaskForm):
    department_id = SelectField(
        _l("Verantwortliches Amt"), coerce=int, validators=[InputRequired(_l("Wählen Sie das Amt."))]
    )
    title = StringField(_l("Titel"), validators=[InputRequired(_l("Geben Sie einen Titel an.")), Length(max=TITLE_MAX)])
    summary = TextAreaField(_l("Kurzbeschreibung"), validators=[Optional(), Length(max=SUMMARY_MAX)])
    body = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=BODY_MAX)])
    audience = RadioField(
        _l("Wer darf teilnehmen?"),
        default=Audience.SIGNED_IN.value,
        validators=[InputRequired(_l("Wählen Sie, wer teilnehmen darf."))],
    )
    premoderation = BooleanField(_l("Beiträge erst nach Prüfung veröffentlichen (Vorabmoderation)"))
    district = StringField(_l("Stadtteil"), validators=[Optional(), Length(max=100)])
    topic = StringField(_l("Thema"), validators=[Optional(), Length(max=100)])
    categories = TextAreaField(_l("Kategorien für Vorschläge"), validators=[Optional(), Length(max=4000)])
    contact_name = StringField(_l("Ansprechperson"), validators=[Optional(), Length(max=200)])
    contact_email = StringField(_l("E-Mail-Adresse der Ansprechperson"), validators=[Optional(), Length(max=254)])
    support_threshold = IntegerField(
        _l("Unterstützungen, ab denen ein Vorschlag eine Antwort bekommt"),
        validators=[Optional(), NumberRange(min=1, max=1_000_000, message=_l("Geben Sie eine ganze Zahl ab 1 an."))],
    )
    # With JavaScript the manager draws the area on the map; without it they paste GeoJSON into `area_text`.
    area_geojson = GeoJSONField(
        _l("Gebiet auf der Karte"), geometry="polygon", polygon_required=True, coordinates=False
    )
    area_text = TextAreaField(_l("Gebiet als GeoJSON einfügen"), validators=[Optional(), Length(max=200_000)])
    area_remove = BooleanField(_l("Gebiet entfernen"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audience.choices = _choices(audience_labels())

    def validate(self, extra_validators: Any = None) -> bool:
        """As FlaskForm's; pasted GeoJSON or "remove" win over the map field, whose text alternative (a typed
        address) gives a point only: without JavaScript the manager is sent to the paste field instead."""
        super().validate(extra_validators)
        area = self.area_geojson
        if area.errors and ((self.area_text.data or "").strip() or self.area_remove.data):
            area.errors = []
        elif area.errors and area.no_javascript and area.source in ("address", "coordinates"):
            area.errors = [_("Ohne Karte fügen Sie das Gebiet bitte als GeoJSON in das Feld darunter ein.")]
        return not self.errors

    @staticmethod
    def stored(consultation: Consultation) -> dict[str, Any]:
        """What the edit form starts with: the consultation's values, its categories one per line."""
        names = ("title", "summary", "body", "audience", "premoderation", "district", "topic", "contact_name")
        values: dict[str, Any] = {name: getattr(consultation, name) for name in names}
        values.update(
            categories="\n".join(consultation.categories or []),
            contact_email=consultation.contact_email,
            support_threshold=consultation.support_threshold,
            area_geojson=consultation.area_geojson,
        )
        return values

    def draft(self) -> ConsultationDraft:
        """The form's values for participation.services.consultations (which checks them again)."""
        return ConsultationDraft(
            title=self.title.data or "",
            summary=self.summary.data or "",
            body=self.body.data or "",
            audience=self.audience.data or "",
            premoderation=bool(self.premoderation.data),
            district=self.district.data or None,
            topic=self.topic.data or None,
            categories=(self.categories.data or "").splitlines(),
            contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "",
            support_threshold=self.support_threshold.data,
            area_geojson=self.area_value(),
        )

    def area_value(self) -> str | None:
        """The area to save: none when removed, the pasted GeoJSON, else the map's (or the stored) polygon."""
        if self.area_remove.data:
            return None
        pasted = (self.area_text.data or "").strip()
        if pasted:
            return pasted
        geometry = self.area_geojson.data
        return geometry.to_json() if geometry is not None else None


class PhaseKindForm(FlaskForm):
    """Step 1 of a new phase (GET): its kind, so that the next page can tick the kind's actions."""

    class Meta:
        csrf = False

    kind = RadioField(_l("Art der Phase"), validators=[InputRequired(_l("Wählen Sie die Art der Phase."))])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(kind_labels())


class PhaseForm(FlaskForm):
    kind = SelectField(_l("Art der Phase"), validators=[InputRequired(_l("Wählen Sie die Art der Phase."))])
    title = StringField(
        _l("Titel der Phase"), validators=[InputRequired(_l("Geben Sie einen Titel an.")), Length(max=TITLE_MAX)]
    )
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    starts_at = DateTimeLocalField(
        _l("Beginn"),
        format=DATETIME_FORMATS,
        tz=BERLIN,
        invalid_value_message=_DATETIME_HINT,
        validators=[InputRequired(_DATETIME_HINT)],
    )
    ends_at = DateTimeLocalField(
        _l("Ende"),
        format=DATETIME_FORMATS,
        tz=BERLIN,
        invalid_value_message=_DATETIME_HINT,
        validators=[InputRequired(_DATETIME_HINT)],
    )
    actions = MultiCheckboxField(_l("In dieser Phase möglich"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(kind_labels())
        self.actions.choices = [SelectChoice(action, str(ACTION_LABELS[action])) for action in ACTIONS]
