"""Builders for appointment test data (the lead's; add area-specific ones in your own folder)."""

from __future__ import annotations

from datetime import time
from typing import Any

from appointments.models import LocationSettings, OfferedService, OpeningPeriod
from portal.departments.models import CatalogueService, Department, Location
from portal.extensions import db
from tests.builders import make_department, make_location

WEEKDAYS = range(0, 5)
MORNING = (time(8, 0), time(12, 0))
AFTERNOON = (time(13, 0), time(16, 0))


def make_catalogue_service(department: Department, name: str = "Personalausweis beantragen") -> CatalogueService:
    service = CatalogueService(name=name, description="", department_id=department.id)
    db.session.add(service)
    db.session.commit()
    return service


def make_bookable_location(
    *,
    department: Department | None = None,
    name: str = "Bürgerbüro Mitte",
    counters: int = 2,
    hours: tuple[tuple[time, time], ...] = (MORNING, AFTERNOON),
    weekdays: range | tuple[int, ...] = WEEKDAYS,
    **settings: Any,
) -> Location:
    """A location taking appointments Monday to Friday, 8–12 and 13–16 (a lunch break), by default."""
    department = department or make_department()
    location = make_location(department, name=name)
    settings.setdefault("min_notice_minutes", 0)
    db.session.add(LocationSettings(location_id=location.id, counters=counters, **settings))
    for weekday in weekdays:
        for opens, closes in hours:
            db.session.add(OpeningPeriod(location_id=location.id, weekday=weekday, opens=opens, closes=closes))
    db.session.commit()
    return location


def offer(location: Location, service: CatalogueService, minutes: int = 15, max_quantity: int = 5) -> OfferedService:
    offered = OfferedService(
        location_id=location.id, catalogue_service_id=service.id, duration_minutes=minutes, max_quantity=max_quantity
    )
    db.session.add(offered)
    db.session.commit()
    return offered
