"""Checking what a citizen typed before anything is held: name, email address, phone number, language."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _

from appointments.errors import BookingError

PHONE_CHARS = re.compile(r"^\+?[0-9 ()/.\-]+$")


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None
    phone: str | None
    language: str


def clean_contact(
    name: str | None, email: str | None, phone: str | None, language: str | None, *, email_required: bool
) -> Contact:
    name = " ".join((name or "").split())
    if not name:
        raise BookingError("name", _("Bitte geben Sie Ihren Namen an."), "required")
    if len(name) > 200:
        raise BookingError("name", _("Der Name darf höchstens 200 Zeichen lang sein."), "too_long")
    address: str | None = (email or "").strip() or None
    if address is None:
        if email_required:
            raise BookingError("email", _("Bitte geben Sie Ihre E-Mail-Adresse an."), "required")
    else:
        try:
            # No DNS lookup: a slow resolver must not hold a booking request, and typos show up anyway.
            address = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError:
            raise BookingError(
                "email",
                _("Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@beispiel.de."),
                "invalid",
            ) from None
        if len(address) > 254:
            raise BookingError("email", _("Die E-Mail-Adresse ist zu lang."), "too_long")
    number = (phone or "").strip() or None
    if number is not None:
        digits = sum(ch.isdigit() for ch in number)
        if not PHONE_CHARS.match(number) or not 6 <= digits <= 20 or len(number) > 40:
            raise BookingError(
                "phone", _("Bitte geben Sie eine gültige Telefonnummer an, zum Beispiel 0351 123456."), "invalid"
            )
    languages = current_app.config.get("LANGUAGES", ["de"])
    return Contact(name, address, number, language if language and language in languages else "de")
