"""The application form's data on a draft: what may be set, each given value checked as it is copied.

A draft may be incomplete (missing parts come later; permits.services.applications.check_complete lists them at
submission), but what is given must be right: a wrong value is a field error and nothing of the save is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from permits.errors import PermitInvalid
from permits.models import PermitApplication
from permits.services import catalogue, validation
from portal.maps.normalise import clean


@dataclass
class ApplicationData:
    """What the form (or the API) may set on a draft; None leaves a field as it is."""

    use_type: str | None = None
    applicant_name: str | None = None
    applicant_email: str | None = None
    applicant_phone: str | None = None
    applicant_address: str | None = None
    responsible_name: str | None = None
    responsible_phone: str | None = None
    description: str | None = None
    street: str | None = None
    house_number: str | None = None
    location_geojson: str | None = None
    length_m: Any = None
    width_m: Any = None
    area_m2: Any = None
    start: date | None = None
    end: date | None = None
    setup_from: date | None = None
    teardown_until: date | None = None
    carriageway_affected: bool | None = None
    footway_affected: bool | None = None
    exemption_reason: str | None = None  # a code; "" removes the claim
    exemption_note: str | None = None


_TEXTS = {
    "applicant_name": 200,
    "applicant_email": 254,
    "applicant_phone": 40,
    "applicant_address": 300,
    "responsible_name": 200,
    "responsible_phone": 40,
    "description": 5000,
    "house_number": 12,
    "exemption_note": 1000,
}


def apply_data(application: PermitApplication, data: ApplicationData, errors: PermitInvalid) -> list[str]:
    """Copy what `data` gives onto the draft, checking each given value; returns the names changed."""
    changed: list[str] = []
    given = {f.name: getattr(data, f.name) for f in fields(data) if getattr(data, f.name) is not None}
    for name, limit in _TEXTS.items():
        if name in given:
            value = clean(str(given[name]), limit) if name != "description" else str(given[name])[:limit]
            if "\x00" in value:
                errors.add(name, _l("Der Text enthält ungültige Zeichen."), "invalid_text")
                continue
            setattr(application, name, value)
    if "use_type" in given:
        found = validation.check_use_type(errors, given["use_type"])
        if found is not None:
            application.use_type_id, application.use_type = found.id, found
    if "street" in given:
        entry = validation.check_street(errors, given["street"])
        application.street = clean(str(given["street"]), 200)
        application.zone = entry.zone if entry is not None else None
    if "length_m" in given or "width_m" in given:
        area = validation.area_from_dimensions(errors, given.get("length_m"), given.get("width_m"))
        if area is not None:
            application.length_cm = _cm(given["length_m"])
            application.width_cm = _cm(given["width_m"])
            application.area_dm2 = int(area * 100)
    elif "area_m2" in given:
        area = validation.check_area(errors, given["area_m2"])
        if area is not None:
            application.area_dm2, application.length_cm, application.width_cm = int(area * 100), None, None
    for name, column in (("start", "starts_on"), ("end", "ends_on"), ("setup_from", "setup_from")):
        if name in given:
            setattr(application, column, given[name])
    if "teardown_until" in given:
        application.teardown_until = given["teardown_until"]
    if application.starts_on is not None and application.ends_on is not None:
        validation.check_period(
            errors,
            application.starts_on,
            application.ends_on,
            setup_from=application.setup_from,
            teardown_until=application.teardown_until,
            use_type=application.use_type,
        )
    if "location_geojson" in given:
        application.location_geojson = _geometry(errors, given["location_geojson"])
    for name in ("carriageway_affected", "footway_affected"):
        if name in given:
            setattr(application, name, bool(given[name]))
    # Using the carriageway or the footway needs a traffic order (verkehrsrechtliche Anordnung): requested with it.
    application.traffic_order_requested = application.carriageway_affected or application.footway_affected
    if "exemption_reason" in given:
        code = given["exemption_reason"]
        if code == "":
            application.exemption_reason_id, application.exemption_reason = None, None
        else:
            reason = catalogue.exemption_by_code(code)
            if reason is None:
                errors.add("exemption_reason", _l("Diesen Befreiungsgrund gibt es nicht."), "unknown_exemption")
            else:
                application.exemption_reason_id, application.exemption_reason = reason.id, reason
    changed.extend(sorted(given))
    return changed


def _cm(metres: Any) -> int:
    value = validation.to_decimal(metres)
    assert value is not None
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _geometry(errors: PermitInvalid, value: str) -> str | None:
    from portal.maps.fields import STORED_MAX_VERTICES
    from portal.maps.geojson import GeoJSONError, parse_geometry
    from portal.maps.settings import current as map_settings

    if not value:
        return None
    try:
        geometry = parse_geometry(
            value, types=("Point", "Polygon"), bounds=map_settings().bounds, max_vertices=STORED_MAX_VERTICES
        )
    except GeoJSONError as error:
        errors.add("location_geojson", error.message, "invalid_geometry")
        return None
    return geometry.to_json()


def data_from(values: Mapping[str, Any]) -> ApplicationData:
    """ApplicationData from a mapping with the form's field names (unknown names are ignored)."""
    names = {f.name for f in fields(ApplicationData)}
    return ApplicationData(**{key: value for key, value in values.items() if key in names})
