"""Locations (Standorte) of a department: managed by platform_admin or that department's department_admin."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

from portal.actors import Actor
from portal.admin.services import AdminError, clean, load_department, require_department
from portal.audit import services as audit
from portal.departments.models import Department, Location
from portal.extensions import db
from portal.transaction import transaction

POSTCODE_RE = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class LocationData:
    name: str
    street: str
    postcode: str
    city: str
    latitude: float | None = None
    longitude: float | None = None
    notes: str = ""


def locations_of(actor: Actor, department_id: int) -> tuple[Department, list[Location]]:
    require_department(actor, department_id)
    department = load_department(department_id)
    locations = db.session.scalars(
        sa.select(Location).where(Location.department_id == department_id).order_by(Location.name)
    )
    return department, list(locations)


def get_location_for_edit(actor: Actor, location_id: int) -> Location:
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound()
    require_department(actor, location.department_id)
    return location


def _validate(data: LocationData) -> None:
    for field, message in (
        ("name", _l("Geben Sie den Namen des Standorts ein.")),
        ("street", _l("Geben Sie Straße und Hausnummer ein.")),
        ("city", _l("Geben Sie den Ort ein.")),
    ):
        if not clean(getattr(data, field)):
            raise AdminError(message, field)
    if not POSTCODE_RE.match(clean(data.postcode)):
        raise AdminError(_l("Die Postleitzahl hat genau 5 Ziffern."), "postcode")
    if (data.latitude is None) != (data.longitude is None):
        field = "longitude" if data.longitude is None else "latitude"
        raise AdminError(_l("Geben Sie Breiten- und Längengrad zusammen an oder keinen von beiden."), field)
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        raise AdminError(_l("Der Breitengrad liegt zwischen -90 und 90."), "latitude")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        raise AdminError(_l("Der Längengrad liegt zwischen -180 und 180."), "longitude")


def save_location(actor: Actor, department_id: int, data: LocationData, location_id: int | None = None) -> Location:
    """Create a location of `department_id`, or change `location_id`; audited as location.saved."""
    if location_id is not None:
        department_id = get_location_for_edit(actor, location_id).department_id
    require_department(actor, department_id)
    _validate(data)
    with transaction():
        department = load_department(department_id)
        location = Location(department=department) if location_id is None else db.session.get(Location, location_id)
        assert location is not None
        location.name = clean(data.name)
        location.street = clean(data.street)
        location.postcode = clean(data.postcode)
        location.city = clean(data.city)
        location.latitude = data.latitude
        location.longitude = data.longitude
        location.notes = (data.notes or "").strip()
        db.session.add(location)
        audit.record(
            "location.saved",
            actor,
            target=location,
            name=location.name,
            department_id=department_id,
            created=location_id is None,
        )
    return location
