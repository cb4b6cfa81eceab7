"""Forms of the waitlist and reminder pages. They check the shape of the input; the services check the rules."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, SelectMultipleField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (rendered by the form macros as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class JoinForm(FlaskForm):
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
                r"^[+0-9 ()/.-]+$",
                message=_l("Bitte geben Sie nur Ziffern, Leerzeichen und + ( ) / - an, zum Beispiel 0351 123456."),
            ),
        ],
    )

    _service_ids: list[int] = []

    def service_fields(self) -> list[tuple[BooleanField, IntegerField]]:
        return [(getattr(self, f"service_{sid}"), getattr(self, f"quantity_{sid}")) for sid in self._service_ids]

    def chosen(self) -> list[tuple[int, int]]:
        return [
            (sid, getattr(self, f"quantity_{sid}").data or 1)
            for sid in self._service_ids
            if getattr(self, f"service_{sid}").data
        ]


def join_form(services: Iterable[tuple[int, str, int]], **kwargs) -> JoinForm:  # type: ignore[no-untyped-def]
    """A JoinForm with one checkbox and one quantity per (id, name, max quantity)."""
    services = list(services)

    class _Form(JoinForm):
        pass

    for sid, name, max_quantity in services:
        setattr(_Form, f"service_{sid}", BooleanField(name))
        setattr(
            _Form,
            f"quantity_{sid}",
            IntegerField(
                _l("Anzahl für %(name)s", name=name),
                default=1,
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


class LeaveForm(FlaskForm):
    """Leave the waitlist (POST only)."""


class AcceptForm(FlaskForm):
    """Accept an offer (POST only: mail scanners follow GET links)."""


class DeclineForm(FlaskForm):
    keep = BooleanField(_l("Ich möchte auf der Warteliste bleiben"))


class ReminderForm(FlaskForm):
    """The one button behind a reminder link (POST only)."""
