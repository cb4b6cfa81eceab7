"""Small helpers the data-access use cases share: who holds which role, clean input, today in Berlin."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import gettext as _

from dataaccess.errors import DataAccessError
from portal.actors import Actor
from portal.timeutil import to_berlin, utcnow

STEWARD_ROLE = "data_steward"
DPO_ROLE = "dpo"
SCOPE = "dataaccess"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_person(actor: Actor) -> bool:
    """A signed-in person, not an API client (decisions and catalogue changes need a person)."""
    return actor.user is not None and actor.token is None


def is_steward_of(actor: Actor, department_id: int) -> bool:
    return is_person(actor) and actor.has_role(STEWARD_ROLE, department_id)


def is_dpo(actor: Actor) -> bool:
    return is_person(actor) and actor.has_role(DPO_ROLE)


def member_of(actor: Actor, department_id: int) -> bool:
    """The person holds any role in the department (clerk, department admin, data steward, ...)."""
    user = actor.user
    return user is not None and any(m.department_id == department_id for m in user.memberships)


def today() -> date:
    """The calendar day in Europe/Berlin: agreements run from and to whole days there."""
    return to_berlin(utcnow()).date()


def clean_text(value: Any, field: str, limit: int, *, required: bool = True) -> str:
    """One line of text, whitespace collapsed; DataAccessError (422) when empty, too long or not text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DataAccessError(field, _("Geben Sie hier einen Text an."), "invalid_input")
    text = " ".join(_CONTROL.sub(" ", value).split())
    if required and not text:
        raise DataAccessError(field, _("Dieses Feld darf nicht leer sein."), "required")
    if len(text) > limit:
        raise DataAccessError(field, _("Höchstens %(n)s Zeichen.", n=limit), "too_long")
    return text


def clean_long_text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    """Text over several lines (descriptions, notes); control characters other than line breaks removed."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DataAccessError(field, _("Geben Sie hier einen Text an."), "invalid_input")
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", value.replace("\r\n", "\n")).strip()
    if required and not text:
        raise DataAccessError(field, _("Dieses Feld darf nicht leer sein."), "required")
    if len(text) > limit:
        raise DataAccessError(field, _("Höchstens %(n)s Zeichen.", n=limit), "too_long")
    return text


def clean_int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise DataAccessError(field, _("Geben Sie eine ganze Zahl an."), "invalid_input")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise DataAccessError(field, _("Geben Sie eine ganze Zahl an."), "invalid_input")
    if not low <= value <= high:
        raise DataAccessError(
            field, _("Geben Sie eine Zahl von %(low)s bis %(high)s an.", low=low, high=high), "out_of_range"
        )
    return value


def loggable(value: Any, limit: int) -> str | None:
    """What a client sent, made safe to store in the log (no control characters, cut to the column)."""
    if value is None:
        return None
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    return text[:limit] or None
