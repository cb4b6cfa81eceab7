"""The checks an application must pass, with errors keyed by the form's field names (the API uses the same names).

Field names: use_type, street, house_number, area_m2, length_m, width_m, start, end, setup_from, teardown_until,
applicant_name, applicant_email, responsible_name, exemption_reason, attachments.

Each check adds to a PermitInvalid instead of stopping at the first problem, so a form shows every error at once.
Dates are calendar days in Europe/Berlin; lead times count working days in Saxony (portal.workdays).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from permits import attachments
from permits.errors import PermitInvalid
from permits.models import StreetZone, UseType
from permits.services import catalogue
from portal import workdays

MAX_AREA_M2 = Decimal(10_000)  # a whole square; anything larger is a planning procedure, not a permit
MAX_LENGTH_M = Decimal(1_000)
MAX_DAYS = 3 * 366  # a special-use permit runs for a limited time; longer uses are contracts
TWO_PLACES = Decimal("0.01")


def to_decimal(value: Any) -> Decimal | None:
    """A number from a form or JSON as Decimal; None for anything that is not a finite number (booleans too)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
        if not value or len(value) > 20:
            return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def check_area(errors: PermitInvalid, value: Any, field: str = "area_m2") -> Decimal | None:
    """Square metres, > 0 and at most MAX_AREA_M2, rounded half up to 0.01 m²."""
    area = to_decimal(value)
    if area is None:
        errors.add(field, _l("Bitte geben Sie die Fläche in m² als Zahl an."), "invalid_number")
        return None
    if area > MAX_AREA_M2:
        errors.add(
            field,
            _l("Die Fläche darf höchstens %(max)s m² groß sein.", max=f"{MAX_AREA_M2:,.0f}".replace(",", ".")),
            "area_too_large",
        )
        return None
    area = area.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    if area <= 0:
        errors.add(field, _l("Die Fläche muss größer als 0 m² sein."), "area_not_positive")
        return None
    return area


def area_from_dimensions(errors: PermitInvalid, length: Any, width: Any) -> Decimal | None:
    """Length × width in metres as m² (each > 0, at most MAX_LENGTH_M), rounded half up to 0.01 m²."""
    found: dict[str, Decimal] = {}
    for field, value in (("length_m", length), ("width_m", width)):
        number = to_decimal(value)
        if number is None:
            errors.add(field, _l("Bitte geben Sie eine Zahl in Metern an."), "invalid_number")
        elif number <= 0 or number > MAX_LENGTH_M:
            errors.add(field, _l("Bitte geben Sie mehr als 0 und höchstens 1.000 Meter an."), "out_of_range")
        else:
            found[field] = number
    if len(found) < 2:
        return None
    return check_area(errors, found["length_m"] * found["width_m"], "area_m2")


def check_use_type(errors: PermitInvalid, code: Any) -> UseType | None:
    if not isinstance(code, str) or not code.strip():
        errors.add("use_type", _l("Bitte wählen Sie die Art der Nutzung."), "required")
        return None
    use_type = catalogue.use_type_by_code(code.strip())
    if use_type is None:
        errors.add("use_type", _l("Diese Art der Nutzung gibt es nicht."), "unknown_use_type")
    return use_type


def check_street(errors: PermitInvalid, name: Any) -> StreetZone | None:
    if not isinstance(name, str) or not name.strip():
        errors.add("street", _l("Bitte geben Sie die Straße an."), "required")
        return None
    entry = catalogue.find_street(name)
    if entry is None:
        errors.add(
            "street",
            _l(
                "Diese Straße kennen wir nicht. Bitte prüfen Sie die Schreibweise oder wenden Sie sich an das "
                "Verkehrs- und Tiefbauamt."
            ),
            "unknown_street",
        )
    return entry


def check_period(
    errors: PermitInvalid,
    start: date | None,
    end: date | None,
    *,
    setup_from: date | None = None,
    teardown_until: date | None = None,
    use_type: UseType | None = None,
) -> bool:
    """Start and end given, end not before start, not longer than MAX_DAYS; set-up before, tear-down after."""
    ok = True
    if start is None:
        errors.add("start", _l("Bitte geben Sie an, ab wann Sie die Fläche nutzen möchten."), "required")
        ok = False
    if end is None:
        errors.add("end", _l("Bitte geben Sie an, bis wann Sie die Fläche nutzen möchten."), "required")
        ok = False
    if start is None or end is None:
        return False
    if end < start:
        errors.add("end", _l("Das Ende darf nicht vor dem Beginn liegen."), "end_before_start")
        return False
    first, last = setup_from or start, teardown_until or end
    if (last - first).days + 1 > MAX_DAYS:
        errors.add("end", _l("Eine Sondernutzung kann für höchstens drei Jahre erlaubt werden."), "period_too_long")
        ok = False
    if (setup_from or teardown_until) and use_type is not None and not use_type.has_setup_teardown:
        errors.add("setup_from", _l("Auf- und Abbautage gibt es nur bei Veranstaltungen."), "not_applicable")
        ok = False
    if setup_from is not None and setup_from > start:
        errors.add("setup_from", _l("Der Aufbau muss vor dem Beginn oder am selben Tag liegen."), "setup_after_start")
        ok = False
    if teardown_until is not None and teardown_until < end:
        errors.add(
            "teardown_until", _l("Der Abbau muss nach dem Ende oder am selben Tag liegen."), "teardown_before_end"
        )
        ok = False
    return ok


def earliest_start(use_type: UseType, today: date) -> date:
    """The first day a use applied for today may begin, after the use type's lead time in Saxon working days."""
    return workdays.earliest_start_after_lead_time(today, use_type.lead_working_days)


def check_lead_time(
    errors: PermitInvalid, use_type: UseType, start: date, today: date, setup_from: date | None = None
) -> bool:
    """The road is occupied from `setup_from` (or `start`); that day must keep the use type's lead time."""
    first = setup_from or start
    earliest = earliest_start(use_type, today)
    if first >= earliest:
        return True
    errors.add(
        "setup_from" if setup_from else "start",
        _l(
            "Für %(use)s brauchen wir %(days)s Arbeitstage Vorlauf. Der früheste Beginn ist der %(date)s.",
            use=use_type.name_de,
            days=use_type.lead_working_days,
            date=format_date(earliest, "dd.MM.yyyy"),
        ),
        "lead_time",
    )
    return False


def check_attachments(errors: PermitInvalid, required: Sequence[str], attached: Collection[str]) -> bool:
    """Every required kind (the use type's, in its order) is attached; the error names what is missing."""
    missing = [kind for kind in required if kind not in attached]
    if not missing:
        return True
    errors.add(
        "attachments",
        _l("Es fehlen noch: %(kinds)s.", kinds=", ".join(attachments.label(kind) for kind in missing)),
        "attachments_missing",
    )
    return False
