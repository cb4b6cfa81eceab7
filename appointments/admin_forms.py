"""Forms for the appointment configuration and the clerks' calendar feeds.

They check the shape of the input; the services in appointments/services/config.py check the rules again
(opens before closes, no overlaps, held-back seats below counters), so the API and the forms agree.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from appointments.services.config import WEEKDAY_NAMES
from portal.forms import MultiCheckboxField

SLOT_CHOICES = [SelectChoice(m, _l("%(minutes)s Minuten", minutes=m)) for m in (5, 10, 15, 20, 30, 60)]  # type: ignore[arg-type]
WEEKDAY_CHOICES = [SelectChoice(number, name) for number, name in enumerate(WEEKDAY_NAMES)]  # type: ignore[arg-type]
UNIT_MESSAGE = _l("Wählen Sie einen Zeitraum.")
RATE_UNITS = [
    ("second", _l("je Sekunde")),
    ("minute", _l("je Minute")),
    ("hour", _l("je Stunde")),
    ("day", _l("je Tag")),
]


def _number(label: object, low: int, high: int, message: object) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Geben Sie eine ganze Zahl ein.")),
            NumberRange(min=low, max=high, message=message),
        ],
    )


class FeedForm(FlaskForm):
    location_id = SelectField(_l("Standort"), coerce=int, validators=[InputRequired(_l("Wählen Sie einen Standort."))])
    show_names = BooleanField(_l("Namen der Bürgerinnen und Bürger im Kalender anzeigen"))


class SettingsForm(FlaskForm):
    active = BooleanField(_l("Online-Terminbuchung an diesem Standort anbieten"))
    counters = _number(_l("Schalter (parallele Termine)"), 1, 200, _l("Zwischen 1 und 200 Schaltern."))
    # A select always has a value: required, so it is not labelled "optional".
    slot_minutes = SelectField(
        _l("Zeitraster"),
        coerce=int,
        choices=SLOT_CHOICES,
        validators=[InputRequired(_l("Bitte wählen Sie ein Zeitraster."))],
    )
    horizon_days = _number(_l("Buchbar im Voraus (Tage)"), 1, 730, _l("Zwischen 1 und 730 Tagen."))
    min_notice_minutes = _number(_l("Mindestvorlauf (Minuten)"), 0, 100_000, _l("Zwischen 0 und 100000 Minuten."))
    buffer_minutes = _number(_l("Puffer nach jedem Termin (Minuten)"), 0, 240, _l("Zwischen 0 und 240 Minuten."))
    held_back_seats = _number(_l("Zurückgehaltene Plätze je Zeitfenster"), 0, 199, _l("Zwischen 0 und 199 Plätzen."))
    confirm_within_minutes = IntegerField(
        _l("Bestätigung per E-Mail innerhalb von (Minuten)"),
        validators=[Optional(), NumberRange(min=5, max=10_080, message=_l("Zwischen 5 und 10080 Minuten."))],
    )
    max_open_per_email = _number(
        _l("Offene Termine je E-Mail-Adresse höchstens"), 1, 50, _l("Zwischen 1 und 50 Terminen.")
    )
    cancel_cooldown_minutes = _number(
        _l("Sperrzeit für abgesagte Termine (Minuten)"), 0, 1440, _l("Zwischen 0 und 1440 Minuten.")
    )
    captcha_required = BooleanField(_l("Rechenaufgabe gegen Bots (ALTCHA) verlangen"))
    reminder_hours = _number(_l("Erinnerung vor dem Termin (Stunden)"), 0, 168, _l("Zwischen 0 und 168 Stunden."))
    waitlist_offer_minutes = _number(
        _l("Angebot an die Warteliste gilt (Minuten)"), 10, 2880, _l("Zwischen 10 und 2880 Minuten.")
    )
    # Rate limits as a number and a unit (stored as flask-limiter's "120/minute"): nobody types code syntax.
    search_rate_count = _number(_l("Terminsuchen höchstens"), 1, 999_999, _l("Zwischen 1 und 999999."))
    search_rate_unit = SelectField(
        _l("Zeitraum für Terminsuchen"), choices=RATE_UNITS, validators=[InputRequired(UNIT_MESSAGE)]
    )
    booking_rate_count = _number(_l("Buchungen höchstens"), 1, 999_999, _l("Zwischen 1 und 999999."))
    booking_rate_unit = SelectField(
        _l("Zeitraum für Buchungen"), choices=RATE_UNITS, validators=[InputRequired(UNIT_MESSAGE)]
    )

    def load_rates(self, search: str, booking: str) -> None:
        """Fill the number and unit fields from stored limits such as "120/minute"."""
        for prefix, value in (("search", search), ("booking", booking)):
            count, _slash, unit = value.partition("/")
            getattr(self, f"{prefix}_rate_count").data = int(count) if count.strip().isdigit() else None
            getattr(self, f"{prefix}_rate_unit").data = unit.strip() or "minute"

    def rate(self, prefix: str) -> str:
        """The limit as flask-limiter reads it, e.g. "120/minute"."""
        return f"{getattr(self, f'{prefix}_rate_count').data}/{getattr(self, f'{prefix}_rate_unit').data}"


class OfferedServiceForm(FlaskForm):
    catalogue_service_id = SelectField(
        _l("Leistung"), coerce=int, validators=[InputRequired(_l("Wählen Sie eine Leistung."))]
    )
    duration_minutes = _number(_l("Dauer (Minuten)"), 5, 480, _l("Zwischen 5 und 480 Minuten."))
    max_quantity = _number(_l("Anzahl je Termin höchstens"), 1, 20, _l("Zwischen 1 und 20."))
    active = BooleanField(_l("Buchbar"), default=True)


class OpeningPeriodForm(FlaskForm):
    # Several weekdays at once: "Mo–Fr 8–12" is one entry for the admin, five intervals in the database.
    weekdays = MultiCheckboxField(
        _l("Wochentage"),
        coerce=int,
        choices=WEEKDAY_CHOICES,
        validators=[InputRequired(_l("Wählen Sie mindestens einen Wochentag."))],
    )
    opens = TimeField(_l("Öffnet um"), validators=[InputRequired(_l("Geben Sie eine Uhrzeit ein, z. B. 08:00."))])
    closes = TimeField(_l("Schließt um"), validators=[InputRequired(_l("Geben Sie eine Uhrzeit ein, z. B. 12:00."))])
    valid_from = DateField(_l("Gültig ab"), validators=[Optional()])
    valid_until = DateField(_l("Gültig bis"), validators=[Optional()])


class OpeningPeriodEditForm(FlaskForm):
    """One interval changed in place: one weekday."""

    weekday = SelectField(_l("Wochentag"), coerce=int, choices=WEEKDAY_CHOICES)
    opens = TimeField(_l("Öffnet um"), validators=[InputRequired(_l("Geben Sie eine Uhrzeit ein, z. B. 08:00."))])
    closes = TimeField(_l("Schließt um"), validators=[InputRequired(_l("Geben Sie eine Uhrzeit ein, z. B. 12:00."))])
    valid_from = DateField(_l("Gültig ab"), validators=[Optional()])
    valid_until = DateField(_l("Gültig bis"), validators=[Optional()])


class ClosureForm(FlaskForm):
    first_day = DateField(_l("Erster geschlossener Tag"), validators=[InputRequired(_l("Geben Sie ein Datum ein."))])
    last_day = DateField(_l("Letzter geschlossener Tag"), validators=[Optional()])
    reason = StringField(_l("Grund"), validators=[Optional(), Length(max=200)])


class ServiceFeeForm(FlaskForm):
    """The fee of a catalogue service when booked; the choices (the fee catalogue) are set by the view."""

    fee_code = SelectField(_l("Gebühr aus dem Gebührenkatalog"), validate_choice=False)
    refund = SelectField(
        _l("Erstattung bei Absage"),
        choices=[
            SelectChoice("hours", _l("vollständig, wenn rechtzeitig abgesagt wird")),  # type: ignore[arg-type]
            SelectChoice("never", _l("keine Erstattung")),  # type: ignore[arg-type]
        ],
        default="hours",
    )
    refund_hours = IntegerField(
        _l("Rechtzeitig heißt: mindestens so viele Stunden vor dem Termin"),
        default=24,
        validators=[Optional(), NumberRange(min=0, max=8760, message=_l("Zwischen 0 und 8760 Stunden."))],
    )
