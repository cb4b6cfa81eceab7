"""Flask-WTF forms of the clerk's desk: the case list's filter, asking for documents, granting, refusing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
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
