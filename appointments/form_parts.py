"""Form parts shared by the booking and the waitlist pages: contact fields and services with a quantity.

The contact fields are made by functions (not a mixin class) so that each form's fields keep the order in
which they are declared there: WTForms orders fields, and so the error summary, by creation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, StringField, TelField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

# The booking page never accepted dots in phone numbers, the waitlist page does; both keep their rule.
PHONE_PATTERN = r"^[+0-9 ()/-]+$"


def name_field() -> UnboundField:
    return StringField(
        _l("Vor- und Nachname"),
        validators=[DataRequired(_l("Bitte geben Sie Ihren Namen ein.")), Length(max=200)],
    )


def email_field() -> UnboundField:
    return EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
            Email(
                _l("Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@example.org."),
                check_deliverability=False,
            ),
            Length(max=254),
        ],
    )


def phone_field(pattern: str = PHONE_PATTERN) -> UnboundField:
    return TelField(
        _l("Telefonnummer"),
        validators=[
            Optional(),
            Length(max=40, message=_l("Die Telefonnummer darf höchstens 40 Zeichen lang sein.")),
            Regexp(
                pattern,
                message=_l("Bitte geben Sie nur Ziffern, Leerzeichen und + ( ) / - an, zum Beispiel 0351 123456."),
            ),
        ],
    )


class ServiceChoices:
    """Mixin for a form with one checkbox `service_<id>` and one quantity `quantity_<id>` per service.

    A quantity typed for a service that was not ticked ticks it: the person said how many they need, so they
    need it (on the server, so it holds without JavaScript). The quantity fields start empty for that reason.
    """

    _service_ids: list[int] = []

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        valid = super().validate(extra_validators)  # type: ignore[misc]
        for check, quantity in self.service_fields():
            if quantity.data is not None and not quantity.errors and not check.data:
                check.data = True
        return bool(valid)

    def service_fields(self) -> list[tuple[BooleanField, IntegerField]]:
        return [(getattr(self, f"service_{sid}"), getattr(self, f"quantity_{sid}")) for sid in self._service_ids]

    def chosen(self) -> list[tuple[int, int]]:
        """(catalogue service id, quantity) of the ticked services; call after validate()."""
        return [
            (sid, getattr(self, f"quantity_{sid}").data or 1)
            for sid in self._service_ids
            if getattr(self, f"service_{sid}").data
        ]


def add_service_fields(
    form_class: type[ServiceChoices], services: Iterable[tuple[int, str, int]], chosen: Mapping[int, int]
) -> None:
    """Add the checkbox and quantity fields for (id, name, max quantity) triples, ticked as in `chosen`."""
    services = list(services)
    for sid, name, max_quantity in services:
        setattr(form_class, f"service_{sid}", BooleanField(name, default=sid in chosen))
        setattr(
            form_class,
            f"quantity_{sid}",
            IntegerField(
                _l("Anzahl für %(name)s", name=name),
                default=chosen.get(sid),
                validators=[
                    Optional(),
                    NumberRange(
                        min=1,
                        max=max_quantity,
                        message=_l("Bitte geben Sie eine Anzahl von 1 bis %(max)s an.", max=max_quantity),
                    ),
                ],
            ),
        )
    form_class._service_ids = [sid for sid, _name, _max in services]
