"""Forms of the managers' answer pages: the official answer to a proposal, a progress note, the list's filter.

They check the shape of the input; participation.services.answers checks the rules again. The answer page holds
two forms at once, each with its own prefix so that ids and errors stay apart; field names follow the service's
`ParticipationError.field` ("status", "text").
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from participation.models_results import UPDATE_TEXT_MAX
from participation.services.answers import ANSWER_LABELS, IMPLEMENTATION_LABELS


class AnswerForm(FlaskForm):
    status = RadioField(
        _l("Antwort der Verwaltung"),
        choices=[SelectChoice(str(value), label) for value, label in ANSWER_LABELS.items()],
        validators=[InputRequired(_l("Wählen Sie, wie die Verwaltung den Vorschlag beantwortet."))],
    )
    text = TextAreaField(
        _l("Begründung"),
        validators=[InputRequired(_l("Geben Sie eine Begründung an.")), Length(max=UPDATE_TEXT_MAX)],
    )


class ProgressForm(FlaskForm):
    status = RadioField(
        _l("Stand der Umsetzung"),
        choices=[SelectChoice(str(value), label) for value, label in IMPLEMENTATION_LABELS.items()],
        validators=[InputRequired(_l("Wählen Sie den Stand der Umsetzung."))],
    )
    text = TextAreaField(
        _l("Was ist geschehen?"),
        validators=[InputRequired(_l("Beschreiben Sie den Fortschritt.")), Length(max=UPDATE_TEXT_MAX)],
    )


class AnswerFilterForm(FlaskForm):
    """GET filter of the answer list: which proposals, and (for answered ones) which answer."""

    class Meta:
        csrf = False

    zeigen = SelectField(
        _l("Anzeigen"),
        choices=[
            SelectChoice("offen", _l("Warten auf Antwort")),
            SelectChoice("beantwortet", _l("Beantwortet")),
        ],  # type: ignore[arg-type]
        default="offen",
        validate_choice=False,
    )
    antwort = SelectField(
        _l("Antwort (bei beantworteten)"),
        choices=[
            SelectChoice("", _l("Alle Antworten")),
            *(SelectChoice(str(value), label) for value, label in ANSWER_LABELS.items()),
        ],  # type: ignore[arg-type]
        validate_choice=False,
        validators=[Optional()],
    )

    @property
    def show(self) -> str:
        return "answered" if self.zeigen.data == "beantwortet" else "awaiting"

    @property
    def status(self) -> str | None:
        value = self.antwort.data
        return value if self.show == "answered" and value in ANSWER_LABELS else None
