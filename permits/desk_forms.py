"""Flask-WTF forms of the clerk's desk: the case list's filter, asking for documents, granting, refusing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from permits.forms import DayField


class FilterForm(FlaskForm):
    """GET: no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    state = SelectField(_l("Bearbeitungsstand"), choices=[], validators=[Optional()])
    q = StringField(_l("Vorgangsnummer oder Straße"), validators=[Optional(), Length(max=100)])


class RequestDocumentsForm(FlaskForm):
    note = TextAreaField(
        _l("Welche Unterlagen fehlen?"),
        validators=[DataRequired(_l("Bitte schreiben Sie, welche Unterlagen fehlen.")), Length(max=1000)],
    )


class GrantForm(FlaskForm):
    valid_from = DayField(
        _l("Gültig ab"), validators=[DataRequired(_l("Bitte geben Sie an, ab wann die Erlaubnis gilt."))]
    )
    valid_until = DayField(
        _l("Gültig bis einschließlich"),
        validators=[DataRequired(_l("Bitte geben Sie an, bis wann die Erlaubnis gilt."))],
    )
    conditions = TextAreaField(_l("Nebenbestimmungen (eine je Zeile)"), validators=[Optional(), Length(max=4000)])


class RefuseForm(FlaskForm):
    reasons = TextAreaField(
        _l("Gründe der Ablehnung"),
        validators=[DataRequired(_l("Bitte begründen Sie die Ablehnung.")), Length(max=4000)],
    )


class StatementRequestForm(FlaskForm):
    department_id = SelectField(
        _l("Amt"), coerce=int, choices=[], validators=[DataRequired(_l("Bitte wählen Sie ein Amt aus."))]
    )
    question = TextAreaField(
        _l("Frage an das Amt"),
        validators=[DataRequired(_l("Bitte stellen Sie dem Amt eine Frage.")), Length(max=4000)],
    )
    due_on = DayField(
        _l("Antwort erbeten bis"),
        validators=[DataRequired(_l("Bitte geben Sie an, bis wann das Amt antworten soll."))],
    )


class StatementAnswerForm(FlaskForm):
    verdict = RadioField(
        _l("Stellungnahme"),
        choices=[  # type: ignore[list-item]
            SelectChoice("agree", _l("Zustimmung")),
            SelectChoice("conditions", _l("Zustimmung mit Auflagen")),
            SelectChoice("object", _l("Einwände")),
        ],
        validators=[DataRequired(_l("Bitte wählen Sie Ihre Stellungnahme aus."))],
    )
    text = TextAreaField(_l("Begründung oder Hinweise"), validators=[Optional(), Length(max=4000)])
    conditions = TextAreaField(_l("Auflagen (eine je Zeile)"), validators=[Optional(), Length(max=4000)])
