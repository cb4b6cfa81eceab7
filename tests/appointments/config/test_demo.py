"""`flask demo load` makes the demo locations bookable right away, and running it again changes nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from appointments.models import LocationSettings, OfferedService, OpeningPeriod
from appointments.services.availability import free_slots
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow


def _load(runner) -> str:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Location, CatalogueService, LocationSettings, OfferedService, OpeningPeriod)
    }


def _location(name: str) -> Location:
    return db.session.scalars(sa.select(Location).where(Location.name == name)).one()


def _service(name: str) -> CatalogueService:
    return db.session.scalars(sa.select(CatalogueService).where(CatalogueService.name == name)).one()


def test_demo_load_twice_is_idempotent(runner):
    first = _load(runner)
    after_first = _counts()
    second = _load(runner)

    assert _counts() == after_first
    assert "offered services: 8 created, 0 already present" in first
    assert "offered services: 0 created, 8 already present" in second
    assert "appointments: 0 created" in second


def test_demo_locations_offer_the_services_with_their_durations(runner):
    _load(runner)

    mitte, nord = _location("Bürgerbüro Mitte"), _location("Bürgerbüro Nord")
    assert db.session.get(LocationSettings, mitte.id).counters == 4
    assert db.session.get(LocationSettings, mitte.id).confirm_within_minutes == 30
    assert db.session.get(LocationSettings, nord.id).confirm_within_minutes is None
    offered = {
        (location_name, service_name): minutes
        for location_name, service_name, minutes in db.session.execute(
            sa.select(Location.name, CatalogueService.name, OfferedService.duration_minutes)
            .join(Location, Location.id == OfferedService.location_id)
            .join(CatalogueService, CatalogueService.id == OfferedService.catalogue_service_id)
        )
    }
    assert offered[("Bürgerbüro Mitte", "Personalausweis beantragen")] == 15
    assert offered[("Bürgerbüro Nord", "Reisepass beantragen")] == 20
    assert offered[("Bürgerbüro Nord", "Meldebescheinigung")] == 10
    assert offered[("Technisches Rathaus", "Beratung Bauantrag")] == 30
    assert offered[("Technisches Rathaus, Verkehrs- und Tiefbauamt", "Beratung Sondernutzung")] == 30


def test_demo_has_free_slots_in_the_coming_weeks(runner):
    _load(runner)
    today = utcnow().astimezone(BERLIN).date()

    for location_name, service_name in (
        ("Bürgerbüro Mitte", "Personalausweis beantragen"),
        ("Bürgerbüro Nord", "Reisepass beantragen"),
        ("Technisches Rathaus", "Beratung Bauantrag"),
        ("Technisches Rathaus, Verkehrs- und Tiefbauamt", "Beratung Sondernutzung"),
    ):
        location, service = _location(location_name), _service(service_name)
        slots = free_slots(location.id, [(service.id, 1)], today, today + timedelta(days=21))
        days = {slot.start.astimezone(BERLIN).date() for slot in slots}
        assert len(days) >= 3, (location_name, len(slots))
