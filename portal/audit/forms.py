"""The admin trail's filter form: sent with GET, so a filtered view can be bookmarked and shared."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.audit.queries import OUTCOME_TEXTS, AuditFilter
from portal.inputs import parse_int


def _parse_day(value: str | None) -> date | None:
    """Browsers send date inputs as YYYY-MM-DD; people typing by hand often write TT.MM.JJJJ."""
    text = (value or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _day(form: FlaskForm, field: StringField) -> None:
    try:
        _parse_day(field.data)
    except ValueError:
        raise ValidationError(_l("Geben Sie ein Datum im Format TT.MM.JJJJ ein, z. B. 01.07.2026.")) from None


def _whole_number(form: FlaskForm, field: StringField) -> None:
    text = (field.data or "").strip()
    if text and parse_int(text, minimum=1) is None:
        raise ValidationError(_l("Geben Sie eine Nutzernummer als ganze Zahl ein, z. B. 42."))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only search sent with GET changes nothing

    action = StringField(_l("Aktion beginnt mit"), validators=[Optional(), Length(max=100)])
    actor = StringField(
        _l("Handelnde Person (Nutzernummer oder E-Mail-Adresse)"), validators=[Optional(), Length(max=254)]
    )
    target_type = StringField(_l("Art des Objekts"), validators=[Optional(), Length(max=64)])
    target_id = StringField(_l("Objekt-Nummer"), validators=[Optional(), Length(max=64)])
    subject = StringField(_l("Betroffene Person (Nutzernummer)"), validators=[Optional(), _whole_number])
    outcome = SelectField(_l("Ergebnis"), choices=[], validators=[Optional()])
    date_from = StringField(_l("Von (Datum)"), validators=[Optional(), _day])
    date_to = StringField(_l("Bis (Datum)"), validators=[Optional(), _day])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = [("", _l("alle")), *OUTCOME_TEXTS.items()]

    def validate_date_to(self, field: StringField) -> None:
        try:
            start, end = _parse_day(self.date_from.data), _parse_day(field.data)
        except ValueError:
            return  # reported by _day
        if start and end and end < start:
            raise ValidationError(_l("Das Bis-Datum darf nicht vor dem Von-Datum liegen."))

    def filters(self) -> AuditFilter:
        """The validated input as a filter (call after validate())."""
        subject = (self.subject.data or "").strip()
        return AuditFilter(
            action_prefix=self.action.data or "",
            actor=self.actor.data or "",
            target_type=self.target_type.data or "",
            target_id=self.target_id.data or "",
            subject_user_id=int(subject) if subject else None,
            outcome=self.outcome.data or "",
            date_from=_parse_day(self.date_from.data),
            date_to=_parse_day(self.date_to.data),
        )
