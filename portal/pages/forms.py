"""The accessibility feedback form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional


class AccessibilityFeedbackForm(FlaskForm):
    # Fields in page order, so the error summary lists them as the page shows them.
    message = TextAreaField(
        _l("Ihre Nachricht"),
        validators=[
            DataRequired(message=_l("Beschreiben Sie bitte die Barriere, auf die Sie gestoßen sind.")),
            Length(max=5000, message=_l("Ihre Nachricht darf höchstens 5000 Zeichen lang sein.")),
        ],
    )
    page = StringField(_l("Seite oder Adresse (URL)"), validators=[Optional(), Length(max=500)])
    name = StringField(_l("Ihr Name"), validators=[Optional(), Length(max=200)])
    email = EmailField(
        _l("Ihre E-Mail-Adresse"),
        validators=[
            Optional(),
            Email(message=_l("Geben Sie eine E-Mail-Adresse im Format name@beispiel.de ein.")),
            Length(max=254),
        ],
    )
