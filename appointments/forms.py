"""Flask-WTF forms of the citizen's booking pages. Field names are part of the contract with the tests.

The service and time choices depend on what the location offers right now, so the views build them from the
catalogue and the slot engine; the forms only know their shape and the messages a person sees.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, RadioField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

MAX_QUANTITY = 20


class ServicesForm(FlaskForm):
    """Step 1. One checkbox and one quantity per offered service, added by `services_form`.

    `services` renders nothing itself: it carries the error "choose at least one" for the fieldset.
    """

    services = HiddenField(_l("Leistungen"))

    def service_fields(self) -> list[tuple[BooleanField, IntegerField]]:
        return [(getattr(self, f"service_{sid}"), getattr(self, f"quantity_{sid}")) for sid in self._service_ids]

    def chosen(self) -> list[tuple[int, int]]:
        """(catalogue service id, quantity) of the ticked services; call after validate()."""
        return [
            (sid, getattr(self, f"quantity_{sid}").data or 1)
            for sid in self._service_ids
            if getattr(self, f"service_{sid}").data
        ]

    def validate(self, extra_validators=None) -> bool:  # type: ignore[override]
        valid = super().validate(extra_validators)
        if not any(getattr(self, f"service_{sid}").data for sid in self._service_ids):
            self.services.errors = [_l("Bitte wählen Sie mindestens eine Leistung aus.")]
            return False
        return valid

    _service_ids: list[int] = []


def services_form(services: Iterable[tuple[int, str, int]], chosen: dict[int, int], **kwargs) -> ServicesForm:
    """A ServicesForm for (id, name, max quantity) triples, with the earlier choice (id -> quantity) kept."""
    services = list(services)

    class _Form(ServicesForm):
        pass

    for sid, name, max_quantity in services:
        setattr(_Form, f"service_{sid}", BooleanField(name, default=sid in chosen))
        setattr(
            _Form,
            f"quantity_{sid}",
            IntegerField(
                _l("Anzahl für %(name)s", name=name),
                default=chosen.get(sid, 1),
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
    _Form._service_ids = [sid for sid, _name, _max in services]
    return _Form(**kwargs)


class LocationForm(FlaskForm):
    """Step 2: the choices (locations offering every chosen service) are set by the view."""

    location = RadioField(
        _l("Standort"), coerce=int, validators=[DataRequired(_l("Bitte wählen Sie einen Standort aus."))]
    )


class TimeForm(FlaskForm):
    """Step 3: the free start times of one day (ISO 8601, UTC) as choices.

    A time that vanished between showing and sending the page is refused by the slot engine with a clear
    message, not by WTForms' generic "not a valid choice", so the choices are not pre-validated.
    """

    start = RadioField(
        _l("Uhrzeit"),
        validate_choice=False,
        validators=[DataRequired(_l("Bitte wählen Sie eine Uhrzeit aus."))],
    )


class DetailsForm(FlaskForm):
    """Step 4: who comes."""

    name = StringField(
        _l("Vor- und Nachname"),
        validators=[DataRequired(_l("Bitte geben Sie Ihren Namen ein.")), Length(max=200)],
    )
    email = EmailField(
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
    phone = TelField(
        _l("Telefonnummer"),
        validators=[
            Optional(),
            Length(max=40, message=_l("Die Telefonnummer darf höchstens 40 Zeichen lang sein.")),
            Regexp(
                r"^[+0-9 ()/-]+$",
                message=_l("Bitte geben Sie nur Ziffern, Leerzeichen und + ( ) / - an, zum Beispiel 0351 123456."),
            ),
        ],
    )


class CheckForm(FlaskForm):
    """Step 5: send the booking. `altcha` carries the solved proof-of-work when the location asks for one."""

    altcha = HiddenField(_l("Sicherheitsprüfung"))


class PickNearestForm(FlaskForm):
    """After "just taken": one of the nearest free times, picked directly."""

    start = RadioField(
        _l("Freie Zeiten in der Nähe"),
        validate_choice=False,
        validators=[DataRequired(_l("Bitte wählen Sie eine der freien Zeiten aus."))],
    )
    altcha = HiddenField(_l("Sicherheitsprüfung"))


class ConfirmForm(FlaskForm):
    """Confirm a held booking (POST only: mail scanners follow GET links)."""


class CancelForm(FlaskForm):
    pass


class RescheduleForm(TimeForm):
    pass
