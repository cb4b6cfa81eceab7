"""Demo data of the appointments service: bookable Bürgerbüros and a Technisches Rathaus.

Runs after the core demo data (portal/demo_data.py), which creates the departments, the two Bürgerbüros
and part of the catalogue; found by name and reused. Idempotent: what exists is left alone, so an admin's
changes to the demo configuration survive another `flask demo load`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import sqlalchemy as sa

from appointments import actions_config, actions_fees, demo_day  # noqa: F401  (declare appointment.config_*, .fee_saved)
from appointments.models import LocationSettings, OfferedService, OpeningPeriod, ServiceFee
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.demo_data import _require_demo
from portal.departments.models import CatalogueService, Department, Location
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.transaction import transaction

MON, TUE, WED, THU, FRI = range(5)
Hours = list[tuple[tuple[int, ...], time, time]]


@dataclass(frozen=True)
class DemoSite:
    department: str  # slug
    name: str
    settings: dict[str, Any]
    hours: Hours
    services: list[tuple[str, int]]  # catalogue name, minutes
    # Created when the department has no location of this name (the core demo only has the Bürgerbüros).
    address: tuple[str, str, str, float, float] | None = None
    new_services: list[tuple[str, str]] = field(default_factory=list)  # name, description


CITIZEN_SERVICES = [("Personalausweis beantragen", 15), ("Reisepass beantragen", 20), ("Meldebescheinigung", 10)]

# Catalogue service -> (fee code of the payments demo's fee catalogue, refund when cancelled this many hours
# before). The codes are only names here: the link is made even when the fee catalogue does not have them
# (yet); booking then quotes no fee for them until it does. Without the payments service they do nothing.
DEMO_FEES = {
    "Personalausweis beantragen": ("PERSONALAUSWEIS", 24),  # 37,00 €
    "Reisepass beantragen": ("REISEPASS", 24),  # 70,00 €
}

SITES = [
    DemoSite(
        "buergeramt",
        "Bürgerbüro Mitte",
        {"counters": 4, "slot_minutes": 10, "horizon_days": 60, "confirm_within_minutes": 30, "held_back_seats": 1},
        [
            ((MON, TUE, WED, THU, FRI), time(8), time(12)),
            ((MON, WED), time(13), time(16)),
            ((TUE, THU), time(13), time(18)),
        ],
        CITIZEN_SERVICES,
    ),
    DemoSite(
        "buergeramt",
        "Bürgerbüro Nord",
        {"counters": 2, "slot_minutes": 10, "horizon_days": 60, "confirm_within_minutes": None},
        [
            ((MON, TUE, THU, FRI), time(9), time(12)),
            ((MON, TUE, THU), time(13), time(17)),
        ],
        CITIZEN_SERVICES,
    ),
    DemoSite(
        "bauordnung",
        "Technisches Rathaus",
        {
            "counters": 2,
            "slot_minutes": 30,
            "horizon_days": 90,
            "min_notice_minutes": 1440,
            "confirm_within_minutes": 60,
        },
        [((TUE, THU), time(9), time(12)), ((TUE,), time(13), time(18))],
        [("Beratung Bauantrag", 30)],
        address=("Hamburger Straße 19", "01067", "Musterstadt", 51.0577, 13.7197),
    ),
    DemoSite(
        "verkehr-tiefbau",
        "Technisches Rathaus, Verkehrs- und Tiefbauamt",
        {
            "counters": 1,
            "slot_minutes": 30,
            "horizon_days": 90,
            "min_notice_minutes": 1440,
            "confirm_within_minutes": 60,
        },
        [((MON, WED), time(9), time(12)), ((WED,), time(13), time(16))],
        [("Beratung Sondernutzung", 30)],
        address=("Hamburger Straße 19", "01067", "Musterstadt", 51.0577, 13.7197),
        new_services=[
            (
                "Beratung Sondernutzung",
                "Beratung vor dem Antrag auf Sondernutzung öffentlicher Flächen, z. B. für Gerüst oder Container.",
            )
        ],
    ),
]


class _Loader:
    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.created: Counter[str] = Counter()
        self.present: Counter[str] = Counter()
        self.fees_seen: set[int] = set()

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.present)[kind] += 1

    def step_done(self, kind: str, label: str) -> None:
        self.echo(f"  {label}: {self.created[kind]} created, {self.present[kind]} already present")

    def location(self, site: DemoSite, department: Department) -> Location | None:
        location = db.session.scalar(
            sa.select(Location).where(Location.department_id == department.id, Location.name == site.name)
        )
        self.count("locations", location is None and site.address is not None)
        if location is None and site.address is not None:
            street, postcode, city, latitude, longitude = site.address
            location = Location(
                department=department,
                name=site.name,
                street=street,
                postcode=postcode,
                city=city,
                latitude=latitude,
                longitude=longitude,
            )
            db.session.add(location)
            audit.record(
                "location.saved", SYSTEM, target=location, name=site.name, department_id=department.id, created=True
            )
        return location

    def catalogue_entry(self, name: str, department: Department, description: str) -> CatalogueService:
        entry = db.session.scalar(sa.select(CatalogueService).where(CatalogueService.name == name).limit(1))
        self.count("catalogue", entry is None)
        if entry is None:
            entry = CatalogueService(name=name, description=description, department=department, active=True)
            db.session.add(entry)
            audit.record(
                "catalogue.saved", SYSTEM, target=entry, name=name, department_id=department.id, leika_key=None
            )
        return entry

    def configure(self, site: DemoSite, location: Location) -> None:
        settings = db.session.get(LocationSettings, location.id)
        self.count("settings", settings is None)
        if settings is None:
            db.session.add(LocationSettings(location_id=location.id, **site.settings))
            audit.record(
                "appointment.config_saved",
                SYSTEM,
                target_type="location",
                target_id=location.id,
                location_id=location.id,
                fields=sorted(site.settings),
            )
        has_hours = db.session.scalar(
            sa.select(OpeningPeriod.id).where(OpeningPeriod.location_id == location.id).limit(1)
        )
        for weekdays, opens, closes in site.hours:
            for weekday in weekdays:
                self.count("hours", has_hours is None)
                if has_hours is None:
                    db.session.add(OpeningPeriod(location_id=location.id, weekday=weekday, opens=opens, closes=closes))

    def fee(self, entry: CatalogueService) -> None:
        """Link a demo service to its fee code unless it has a fee already (an admin's change survives a reload)."""
        if entry.name not in DEMO_FEES or entry.id in self.fees_seen:
            return
        self.fees_seen.add(entry.id)
        exists = db.session.get(ServiceFee, entry.id) is not None
        self.count("fees", not exists)
        if exists:
            return
        code, hours = DEMO_FEES[entry.name]
        db.session.add(ServiceFee(catalogue_service_id=entry.id, fee_code=code, refund_hours_before=hours))
        audit.record(
            "appointment.fee_saved", SYSTEM, target=entry, service_id=entry.id, fee_code=code, refund_hours_before=hours
        )

    def offer(self, location: Location, entry: CatalogueService, minutes: int) -> None:
        exists = db.session.scalar(
            sa.select(OfferedService.id).where(
                OfferedService.location_id == location.id, OfferedService.catalogue_service_id == entry.id
            )
        )
        self.count("services", exists is None)
        if exists is None:
            db.session.add(
                OfferedService(
                    location_id=location.id, catalogue_service_id=entry.id, duration_minutes=minutes, max_quantity=5
                )
            )


def load(echo: Callable[[str], None] = print) -> dict[str, int]:
    """Make the demo locations bookable; returns how many records of each kind were created."""
    _require_demo()
    loader = _Loader(echo)
    echo("Appointments …")
    with transaction():
        for site in SITES:
            department = get_department_by_slug(site.department)
            if department is None:
                echo(f"  skipped {site.name}: department {site.department!r} missing (run the core demo first)")
                continue
            location = loader.location(site, department)
            if location is None:
                echo(f"  skipped {site.name}: location missing (run the core demo first)")
                continue
            db.session.flush()
            loader.configure(site, location)
            descriptions = dict(site.new_services)
            for name, minutes in site.services:
                entry = loader.catalogue_entry(name, department, descriptions.get(name, ""))
                db.session.flush()
                loader.offer(location, entry, minutes)
                loader.fee(entry)
        for kind, label in (
            ("locations", "appointment locations"),
            ("catalogue", "catalogue services"),
            ("settings", "location settings"),
            ("hours", "opening intervals"),
            ("services", "offered services"),
            ("fees", "service fees"),
        ):
            loader.step_done(kind, label)
    # A day on the desk, so a new clerk does not open an empty one (both Bürgerbüros).
    loader.created["visitors today"] += demo_day.load_day(echo)
    created = sum(loader.created.values())
    echo(f"  appointments: {created} created, {sum(loader.present.values())} already present")
    return dict(loader.created)
