"""Forms of the managers' survey and draft editors (/admin/beteiligung/<id>/umfrage, /entwurf).

They check the shape of the input; participation.services.surveys and drafts check it again. Field names follow
the services' `ParticipationError.field`, so a refusal lands next to the field it concerns. The participants'
survey form has no class here: its questions come from the database (participation.views_surveys).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from participation.models_surveys import QUESTION_TEXT_MAX, SCALE_LABEL_MAX, QuestionKind, SurveyQuestion
from participation.services.drafts import DRAFT_MAX
from participation.services.surveys import QuestionDraft


def question_kind_labels() -> dict[str, str]:
    return {
        QuestionKind.SINGLE: _("Eine Antwort auswählen"),
        QuestionKind.MULTIPLE: _("Mehrere Antworten auswählen"),
        QuestionKind.TEXT: _("Freitext"),
        QuestionKind.SCALE: _("Skala (z. B. von 1 bis 5)"),
    }


def _scale_number(label: Any) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(min=0, max=10, message=_l("Geben Sie eine ganze Zahl von 0 bis 10 an."))],
    )


class QuestionForm(FlaskForm):
    kind = RadioField(
        _l("Art der Frage"), default=QuestionKind.SINGLE.value, validators=[InputRequired(_l("Wählen Sie die Art."))]
    )
    text = StringField(
        _l("Frage"), validators=[InputRequired(_l("Geben Sie die Frage an.")), Length(max=QUESTION_TEXT_MAX)]
    )
    required = BooleanField(_l("Pflichtfrage: muss beantwortet werden"))
    options = TextAreaField(_l("Antworten zur Auswahl"), validators=[Optional(), Length(max=5000)])
    scale_min = _scale_number(_l("Skala von"))
    scale_max = _scale_number(_l("Skala bis"))
    min_label = StringField(_l("Bedeutung des niedrigsten Werts"), validators=[Optional(), Length(max=SCALE_LABEL_MAX)])
    max_label = StringField(_l("Bedeutung des höchsten Werts"), validators=[Optional(), Length(max=SCALE_LABEL_MAX)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(value, label) for value, label in question_kind_labels().items()]

    @staticmethod
    def stored(question: SurveyQuestion) -> dict[str, Any]:
        """What the edit form starts with: the question's values, its options one per line."""
        return {
            "kind": question.kind,
            "text": question.text,
            "required": question.required,
            "options": "\n".join(option.label for option in question.options),
            "scale_min": question.scale_min if question.scale_min is not None else 1,
            "scale_max": question.scale_max if question.scale_max is not None else 5,
            "min_label": question.min_label or "",
            "max_label": question.max_label or "",
        }

    def draft(self) -> QuestionDraft:
        """The form's values for participation.services.surveys (which checks them again)."""
        return QuestionDraft(
            kind=self.kind.data or "",
            text=self.text.data or "",
            required=bool(self.required.data),
            options=(self.options.data or "").splitlines(),
            scale_min=self.scale_min.data if self.scale_min.data is not None else 1,
            scale_max=self.scale_max.data if self.scale_max.data is not None else 5,
            min_label=self.min_label.data or None,
            max_label=self.max_label.data or None,
        )


class DraftForm(FlaskForm):
    text = TextAreaField(_l("Text des Entwurfs"), validators=[Optional(), Length(max=DRAFT_MAX)])
