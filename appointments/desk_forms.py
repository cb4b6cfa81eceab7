"""Forms of the clerk's desk. They check the shape of the input; appointments.services.desk checks the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms import MultiCheckboxField


class CheckInForm(FlaskForm):
    reference = StringField(
        _l("Vorgangsnummer"),
        validators=[DataRequired(_l("Geben Sie die Vorgangsnummer ein oder scannen Sie den QR-Code.")), Length(max=40)],
        # A QR scanner types into the focused field: after each check-in the page is ready for the next scan.
        render_kw={"autofocus": True},
    )


class CallNextForm(FlaskForm):
    counter = SelectField(_l("Ihr Schalter"), validators=[InputRequired(_l("Wählen Sie Ihren Schalter."))])


class BookingActionForm(FlaskForm):
    booking_id = HiddenField(validators=[DataRequired()])


class WalkInForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    services = MultiCheckboxField(
        _l("Anliegen"), coerce=int, validators=[DataRequired(_l("Wählen Sie mindestens eine Leistung."))]
    )


class CloseDayForm(FlaskForm):
    day = DateField(_l("Tag"), validators=[InputRequired(_l("Geben Sie den Tag an, der ausfällt."))])
    reason = TextAreaField(
        _l("Grund"),
        validators=[DataRequired(_l("Geben Sie einen Grund an.")), Length(max=200)],
    )
    # Set by the page that shows who is affected: only then is the day cancelled.
    confirmed = HiddenField()


class StatisticsForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads

    from_ = DateField(_l("Von"), name="from", validators=[Optional()])
    to = DateField(_l("Bis"), validators=[Optional()])


class DisplayTokenForm(FlaskForm):
    label = StringField(
        _l("Name des Bildschirms"),
        validators=[DataRequired(_l("Geben Sie dem Bildschirm einen Namen.")), Length(max=100)],
    )
