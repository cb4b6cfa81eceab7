"""Forms of the treasury's pages: fees, tariffs, the payment search, asking for a refund, confirming a payout.

They check the shape of the input (an amount in euros, a date); the services check the rules again, so the
API and the pages agree. Field names follow the services' `PaymentError.field`, so a refusal lands next to
the field it concerns.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from payments.models import PaymentStatus

MAX_EURO_CENTS = 100_000_000  # the same cap as an online payment: 1 Mio. €
# German notation: "1.234,50", "1234,5", "37"; a dot is a thousands separator only in groups of three.
_GERMAN = re.compile(r"^(?P<whole>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,(?P<cents>[0-9]{1,2}))?$")
# What people type all the same: "12.50" (a dot before one or two final digits is a decimal point).
_DOT_DECIMAL = re.compile(r"^(?P<whole>[0-9]+)\.(?P<cents>[0-9]{1,2})$")


def parse_euro(text: str) -> int:
    """ "12,50" -> 1250 cents, exactly (no floating point). Raises ValueError with a message for the page."""
    value = (text or "").strip().removesuffix("€").removesuffix("EUR").strip().replace("\u00a0", "").replace(" ", "")
    if len(value) > 16:
        raise ValueError(_l("Der Betrag ist zu hoch."))
    match = _GERMAN.fullmatch(value) or _DOT_DECIMAL.fullmatch(value)
    if match is None:
        raise ValueError(_l("Geben Sie den Betrag in Euro an, z. B. 12,50."))
    cents_text = (match.group("cents") or "").ljust(2, "0")
    cents = int(match.group("whole").replace(".", "")) * 100 + int(cents_text or "0")
    if cents <= 0:
        raise ValueError(_l("Der Betrag muss größer als 0 sein."))
    if cents > MAX_EURO_CENTS:
        raise ValueError(_l("Der Betrag ist zu hoch."))
    return cents


def euro_input(cents: int | None) -> str:
    """1250 -> "12,50", as the field shows a stored amount."""
    if cents is None:
        return ""
    whole, rest = divmod(int(cents), 100)
    return f"{whole},{rest:02d}"


class EuroField(StringField):
    """An amount typed in euros ("12,50"); `data` is integer cents (None when empty). What was typed stays
    in the field when it comes back with an error."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if valuelist and str(valuelist[0]).strip():
            self.data = parse_euro(str(valuelist[0]))

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return euro_input(self.data)


class FeeForm(FlaskForm):
    code = StringField(
        _l("Gebührenschlüssel"),
        validators=[InputRequired(_l("Geben Sie einen Gebührenschlüssel an.")), Length(max=40)],
    )
    name = StringField(
        _l("Bezeichnung"), validators=[InputRequired(_l("Geben Sie eine Bezeichnung an.")), Length(max=200)]
    )
    budget_line = StringField(
        _l("Haushaltsstelle"),
        validators=[InputRequired(_l("Geben Sie die Haushaltsstelle an.")), Length(max=60)],
    )
    description = TextAreaField(_l("Beschreibung"), validators=[Optional(), Length(max=2000)])
    active = BooleanField(_l("Gebühr wird angeboten"), default=True)


class FeeVersionForm(FlaskForm):
    valid_from = DateField(_l("Gültig ab"), validators=[InputRequired(_l("Geben Sie ein Datum an, z. B. 2027-01-01."))])
    kind = RadioField(
        _l("Art des Tarifs"),
        choices=[
            SelectChoice("fixed", _l("Fester Betrag")),  # type: ignore[arg-type]
            SelectChoice("rate", _l("Satz je Einheit (z. B. je m² und Tag)")),  # type: ignore[arg-type]
        ],
        default="fixed",
        validators=[InputRequired(_l("Wählen Sie die Art des Tarifs."))],
    )
    amount_cents = EuroField(_l("Fester Betrag in Euro"), validators=[Optional()])
    rate_cents = EuroField(_l("Satz je Einheit in Euro"), validators=[Optional()])
    unit = StringField(_l("Einheit"), validators=[Optional(), Length(max=40)])
    minimum_cents = EuroField(_l("Mindestbetrag in Euro"), validators=[Optional()])


STATUS_CHOICES = [
    SelectChoice(value, label)  # type: ignore[arg-type]
    for value, label in [
        ("", _l("alle")),
        (PaymentStatus.CREATED.value, _l("Offen")),
        (PaymentStatus.STARTED.value, _l("Zahlung begonnen")),
        (PaymentStatus.SUCCEEDED.value, _l("Bezahlt")),
        (PaymentStatus.PARTIALLY_REFUNDED.value, _l("Bezahlt, teilweise erstattet")),
        (PaymentStatus.REFUNDED.value, _l("Erstattet")),
        (PaymentStatus.FAILED.value, _l("Fehlgeschlagen")),
        (PaymentStatus.CANCELLED.value, _l("Abgebrochen")),
        (PaymentStatus.EXPIRED.value, _l("Abgelaufen")),
        (PaymentStatus.WITHDRAWN.value, _l("Zurückgezogen")),
    ]
]


class SearchForm(FlaskForm):
    """Sent by GET: a search changes nothing, and its address can be bookmarked."""

    class Meta:
        csrf = False

    kassenzeichen = StringField(_l("Kassenzeichen"), validators=[Optional(), Length(max=40)])
    case_reference = StringField(_l("Vorgangsnummer"), validators=[Optional(), Length(max=60)])
    status = SelectField(_l("Stand"), choices=STATUS_CHOICES, validators=[Optional()])
    date_from = DateField(_l("Von (Tag)"), validators=[Optional()])
    date_to = DateField(_l("Bis (Tag)"), validators=[Optional()])


class RefundForm(FlaskForm):
    amount_cents = EuroField(
        _l("Betrag in Euro"), validators=[InputRequired(_l("Geben Sie den Betrag an, der erstattet werden soll."))]
    )
    reason = TextAreaField(
        _l("Grund der Erstattung"),
        validators=[
            InputRequired(_l("Geben Sie den Grund an; die zweite Person entscheidet danach.")),
            Length(max=500, message=_l("Höchstens 500 Zeichen.")),
        ],
    )


class PayoutForm(FlaskForm):
    """The treasury confirms it transferred a refund of a bank transfer back."""

    bank_reference = StringField(
        _l("Referenz der Überweisung"),
        validators=[
            InputRequired(_l("Geben Sie die Referenz an, unter der Ihre Bank die Überweisung führt.")),
            Length(max=140, message=_l("Höchstens 140 Zeichen.")),
        ],
    )
    executed_on = DateField(
        _l("Ausgeführt am"),
        validators=[InputRequired(_l("Geben Sie das Datum der Überweisung an, z. B. 2026-11-27."))],
    )
    iban = StringField(_l("IBAN, auf die überwiesen wurde"), validators=[Optional(), Length(max=42)])


class FindBillForm(FlaskForm):
    """A paper notice carries its Kassenzeichen and amount: both together find the payment to pay online."""

    kassenzeichen = StringField(
        _l("Kassenzeichen"),
        validators=[InputRequired(_l("Geben Sie das Kassenzeichen von Ihrem Bescheid an.")), Length(max=40)],
    )
    amount_cents = EuroField(
        _l("Betrag in Euro"), validators=[InputRequired(_l("Geben Sie den Betrag von Ihrem Bescheid an."))]
    )
