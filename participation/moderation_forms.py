"""Forms of moderation: the citizen's flag and appeal, the moderator's decisions, blocks and appeal decisions.

They check the shape of the input; the services (participation.services.moderation*) check the rules again.
Field names follow the services' `ParticipationError.field`, so a refusal lands next to its field. The case
page holds several forms at once, each with its own prefix so that ids and errors stay apart.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from participation.models_moderation import APPEAL_TEXT_MAX, REASON_TEXT_MAX
from participation.services.moderation import REASONS
from participation.services.moderation_people import BLOCK_DAYS_MAX


def _reasons() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in REASONS.items()]


class FlagForm(FlaskForm):
    reason = RadioField(
        _l("Warum soll die Moderation diesen Beitrag prüfen?"),
        choices=_reasons(),
        validators=[InputRequired(_l("Wählen Sie einen Grund."))],
    )
    text = TextAreaField(_l("Erläuterung"), validators=[Optional(), Length(max=REASON_TEXT_MAX)])


class HideForm(FlaskForm):
    reason = SelectField(
        _l("Grund"),
        choices=[SelectChoice("", _l("Bitte wählen")), *_reasons()],  # type: ignore[arg-type]
        validators=[InputRequired(_l("Wählen Sie einen Grund."))],
    )
    text = TextAreaField(
        _l("Begründung für die Verfasserin oder den Verfasser"), validators=[Length(max=REASON_TEXT_MAX)]
    )


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Vermerk"), validators=[Optional(), Length(max=REASON_TEXT_MAX)])


class BlockForm(FlaskForm):
    days = IntegerField(
        _l("Dauer der Sperre in Tagen"),
        default=7,
        validators=[
            InputRequired(_l("Geben Sie eine ganze Zahl ein.")),
            NumberRange(min=1, max=BLOCK_DAYS_MAX, message=_l("1 bis %(n)s Tage.", n=BLOCK_DAYS_MAX)),
        ],
    )
    reason = TextAreaField(
        _l("Grund der Sperre"),
        validators=[InputRequired(_l("Geben Sie einen Grund an.")), Length(max=REASON_TEXT_MAX)],
    )


class AppealForm(FlaskForm):
    text = TextAreaField(
        _l("Warum sollte Ihr Beitrag wieder angezeigt werden?"),
        validators=[InputRequired(_l("Begründen Sie Ihren Einspruch.")), Length(max=APPEAL_TEXT_MAX)],
    )


class AppealDecisionForm(FlaskForm):
    outcome = RadioField(
        _l("Entscheidung"),
        choices=[
            SelectChoice("granted", _l("Einspruch stattgeben: Der Beitrag wird wieder angezeigt")),  # type: ignore[arg-type]
            SelectChoice("rejected", _l("Einspruch zurückweisen: Der Beitrag bleibt ausgeblendet")),  # type: ignore[arg-type]
        ],
        validators=[InputRequired(_l("Wählen Sie eine Entscheidung."))],
    )
    note = TextAreaField(
        _l("Begründung für die Verfasserin oder den Verfasser"),
        validators=[InputRequired(_l("Begründen Sie die Entscheidung.")), Length(max=REASON_TEXT_MAX)],
    )


class RevealForm(FlaskForm):
    reason = TextAreaField(
        _l("Warum erfordert dieser Fall, die Person zu kennen?"),
        validators=[InputRequired(_l("Geben Sie einen Grund an.")), Length(max=REASON_TEXT_MAX)],
    )
