"""Forms of the waitlist and reminder pages. They check the shape of the input; the services check the rules."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from appointments.form_parts import (
    ServiceChoices,
    add_service_fields,
    email_field,
    name_field,
    phone_field,
)
from portal.forms import ConfirmForm, MultiCheckboxField


class JoinForm(ServiceChoices, FlaskForm):
    """Join the waitlist. The service checkboxes and quantities are added by `join_form`.

    The days are text inputs of type date: the browser offers a date picker, and without one a person can
    type 1.12.2026 or 2026-12-01; the view parses both and the service explains what is wrong.
    """

    services = HiddenField(_l("Leistungen"))  # carries the error "choose at least one" for the fieldset
    locations = MultiCheckboxField(
        _l("Standorte"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Bitte wählen Sie mindestens einen Standort aus."))],
    )
    first_day = StringField(
        _l("Frühestens am"), validators=[DataRequired(_l("Bitte geben Sie den ersten Tag an.")), Length(max=20)]
    )
    last_day = StringField(
        _l("Spätestens am"), validators=[DataRequired(_l("Bitte geben Sie den letzten Tag an.")), Length(max=20)]
    )
    name = name_field()
    email = email_field()
    phone = phone_field()


def join_form(services: Iterable[tuple[int, str, int]], **kwargs) -> JoinForm:  # type: ignore[no-untyped-def]
    """A JoinForm with one checkbox and one quantity per (id, name, max quantity)."""

    class _Form(JoinForm):
        pass

    add_service_fields(_Form, services, {})
    return _Form(**kwargs)


# The buttons behind links in mails: POST only, since mail scanners follow GET links.
LeaveForm = ConfirmForm  # leave the waitlist
AcceptForm = ConfirmForm  # accept an offer
ReminderForm = ConfirmForm  # "I'm coming" / "release my appointment" behind a reminder


class DeclineForm(FlaskForm):
    keep = BooleanField(_l("Ich möchte auf der Warteliste bleiben"))
