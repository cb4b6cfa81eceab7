"""The decision form: approve or reject, with a note (required for a rejection, checked by the service)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.approvals.services import NOTE_MAX


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Ihre Entscheidung"),
        choices=[SelectChoice("approve", _l("Freigeben")), SelectChoice("reject", _l("Ablehnen"))],  # type: ignore[list-item]
        validators=[InputRequired(_l("Wählen Sie, ob Sie freigeben oder ablehnen."))],
    )
    note = TextAreaField(
        _l("Begründung der Entscheidung"),
        validators=[Length(max=NOTE_MAX, message=_l("Höchstens %(max)d Zeichen."))],
    )
