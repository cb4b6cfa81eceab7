"""Flask-WTF forms of the citizen's booking pages. Field names are part of the contract with the tests.

The service and time choices depend on what the location offers right now, so the views build them from the
catalogue and the slot engine; the forms only know their shape and the messages a person sees.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired

from appointments.form_parts import ServiceChoices, add_service_fields, email_field, name_field, phone_field
from portal.forms import ConfirmForm

MAX_QUANTITY = 20


class ServicesForm(ServiceChoices, FlaskForm):
    """Step 1. One checkbox and one quantity per offered service, added by `services_form`.

    `services` renders nothing itself: it carries the error "choose at least one" for the fieldset.
    """

    services = HiddenField(_l("Leistungen"))

    def validate(self, extra_validators=None) -> bool:  # type: ignore[override]
        valid = super().validate(extra_validators)
        if not any(getattr(self, f"service_{sid}").data for sid in self._service_ids):
            self.services.errors = [_l("Bitte wählen Sie mindestens eine Leistung aus.")]
            return False
        return valid


def services_form(services: Iterable[tuple[int, str, int]], chosen: dict[int, int], **kwargs) -> ServicesForm:
    """A ServicesForm for (id, name, max quantity) triples, with the earlier choice (id -> quantity) kept."""

    class _Form(ServicesForm):
        pass

    add_service_fields(_Form, services, chosen)
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

    name = name_field()
    email = email_field()
    phone = phone_field()


class CheckForm(FlaskForm):
    """Step 5: send the booking. `altcha` carries the solved proof-of-work when the location asks for one."""

    altcha = HiddenField(_l("Sicherheitsprüfung"))


PAYMENT_MESSAGE = _l("Bitte wählen Sie, wie Sie die Gebühr bezahlen möchten.")


class CheckWithFeeForm(CheckForm):
    """Step 5 when the chosen services carry a fee: how it is paid. "online" is preselected (the payment order
    is made with the booking, the person pays right after); "counter" leaves it to the desk on the day."""

    payment = RadioField(
        _l("Wie möchten Sie die Gebühr bezahlen?"),
        choices=[
            SelectChoice("online", _l("Jetzt online bezahlen")),  # type: ignore[arg-type]
            SelectChoice("counter", _l("Am Schalter bezahlen")),  # type: ignore[arg-type]
        ],
        default="online",
        validate_choice=False,
        validators=[InputRequired(PAYMENT_MESSAGE), AnyOf(("online", "counter"), message=PAYMENT_MESSAGE)],
    )


def check_form(with_fee: bool, **kwargs) -> CheckForm:
    return CheckWithFeeForm(**kwargs) if with_fee else CheckForm(**kwargs)


class PickNearestForm(FlaskForm):
    """After "just taken": one of the nearest free times, picked directly."""

    start = RadioField(
        _l("Freie Zeiten in der Nähe"),
        validate_choice=False,
        validators=[DataRequired(_l("Bitte wählen Sie eine der freien Zeiten aus."))],
    )
    altcha = HiddenField(_l("Sicherheitsprüfung"))


# Confirming a held booking and cancelling one are buttons behind mailed links: POST only (ConfirmForm).
CancelForm = ConfirmForm


class RescheduleForm(TimeForm):
    """The new time; `confirmed` is set by the check page, so the first send only shows old and new time."""

    confirmed = HiddenField()
