"""Demo catalogue of the permit service: the issue's use types, a street-to-zone list with `Markt` in zone 1, a
tariff in which a container in zone 1 costs 0.80 €/m²/day plus a 25 € administrative fee (6 m² for 3 days: 39.40 €),
and two exemption reasons.

Runs after the core demo. Goes through the catalogue services as the system, so every entry is audited like a
department's change. Idempotent: an entry that is already as it should be is left alone (and writes no event); the
tariff version is added only when none takes effect on its day. Refused unless DEMO is on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from permits.rules import OFFICER_ROLE
from permits.services import catalogue
from permits.services.catalogue import RateData, UseTypeData
from portal.accounts.models import DepartmentMembership, User
from portal.accounts.passwords import hash_password
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.demo_data import DEMO_DOMAIN, DEMO_PASSWORD, DEMO_TOTP_SECRET, _require_demo
from portal.departments.models import Department
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

DEPARTMENT = ("verkehr-tiefbau", "Verkehrs- und Tiefbauamt", "tiefbau@stadtportal.example", "030 23125-103")

# code, German, English, unit, lead time (working days), required attachments, set-up/tear-down
USE_TYPES: list[tuple[str, str, str, str, int, tuple[str, ...], bool]] = [
    ("scaffolding", "Gerüst", "Scaffolding", "week", 10, ("site_plan", "liability_insurance"), False),
    ("container", "Container oder Mulde", "Skip or container", "day", 5, (), False),
    (
        "site_equipment",
        "Baustelleneinrichtung und Bauzaun",
        "Site fencing and equipment",
        "week",
        10,
        ("site_plan", "traffic_sign_plan"),
        False,
    ),
    ("cafe_seating", "Freisitz (Gastronomie)", "Café seating", "month", 15, ("site_plan", "photo"), False),
    ("goods_display", "Warenauslage", "Goods display", "month", 10, ("site_plan",), False),
    ("information_stand", "Informationsstand", "Information stand", "day", 5, (), False),
    ("event", "Veranstaltung", "Event", "day", 20, ("site_plan", "liability_insurance"), True),
    ("filming", "Filmaufnahmen", "Filming", "day", 10, ("site_plan", "liability_insurance"), False),
]

# street, zone (1: the historic centre, 2: the inner districts, 3: the rest)
STREETS: list[tuple[str, int]] = [
    ("Markt", 1),
    ("Am Markt", 1),
    ("Rathausplatz", 1),
    ("Schloßstraße", 1),
    ("Wilsdruffer Straße", 1),
    ("Hauptstraße", 2),
    ("Königsbrücker Straße", 2),
    ("Bautzner Straße", 2),
    ("Alaunstraße", 2),
    ("Louisenstraße", 2),
    ("Leipziger Straße", 3),
    ("Hansastraße", 3),
    ("Großenhainer Straße", 3),
]

TARIFF_FROM = date(2026, 1, 1)
TARIFF_STATUTE = "Sondernutzungssatzung der Stadt Musterstadt vom 1. Dezember 2025"
MINIMUM_FEE_CENTS = 1000
ADMINISTRATIVE_FEE_CENTS = 2500
# cents per m² and unit in zones 1, 2, 3
RATES: dict[str, tuple[int, int, int]] = {
    "container": (80, 60, 40),
    "information_stand": (100, 80, 50),
    "event": (50, 40, 30),
    "filming": (100, 80, 60),
    "scaffolding": (150, 100, 70),
    "site_equipment": (150, 100, 70),
    "cafe_seating": (600, 400, 250),
    "goods_display": (500, 350, 200),
}

EXEMPTIONS = [
    ("charitable", "Gemeinnützige Nutzung", "Charitable use", 100),
    ("non_commercial", "Nicht gewerbliche Nutzung durch einen Verein", "Non-commercial use by an association", 50),
]


# The traffic office the clerk asks for its statement (traffic order) when carriageway or footway is affected.
TRAFFIC_OFFICE = ("strassenverkehr", "Straßenverkehrsbehörde", "verkehrsbehoerde@stadtportal.example", "030 23125-140")


def _department(slug: str, name: str, email: str, phone: str) -> None:
    if get_department_by_slug(slug) is None:
        with transaction():
            db.session.add(Department(slug=slug, name=name, email=email, phone=phone))


# The permit desk's clerk and the traffic office's member: they sign in like every demo staff account (`flask demo
# totp` prints the code).
CLERK = (f"sondernutzung@{DEMO_DOMAIN}", "Tilo Tiefbau")
TRAFFIC_MEMBER = (f"verkehrsbehoerde@{DEMO_DOMAIN}", "Vera Verkehr")


def _clerk(person: tuple[str, str] = CLERK, slug: str = DEPARTMENT[0], role: str = OFFICER_ROLE) -> int:
    """A demo staff member with `role` in the department `slug` (by default the permit desk's clerk); 1 if
    created."""
    email, name = person
    department = get_department_by_slug(slug)
    assert department is not None
    with transaction():
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
        created = user is None
        if user is None:
            user = User(
                email=email,
                password_hash=hash_password(DEMO_PASSWORD),
                display_name=name,
                language="de",
                email_verified_at=utcnow(),
                totp_secret=DEMO_TOTP_SECRET,
                totp_enabled_at=utcnow(),
            )
            db.session.add(user)
            db.session.flush()
        if not user.has_role(role, department.id):
            user.memberships.append(DepartmentMembership(department_id=department.id, role=role))
            audit.record(
                "role.granted",
                SYSTEM,
                target=user,
                subject_user_id=user.id,
                role=role,
                department_id=department.id,
            )
    return int(created)


def load(echo: Callable[[str], None] = print) -> dict[str, int]:
    """Add what is missing of the demo catalogue and the desk's clerk; returns what was added per kind."""
    _require_demo()
    echo("Permits: use types, street zones, tariff, the permit desk's clerk …")
    _department(*DEPARTMENT)
    _department(*TRAFFIC_OFFICE)
    clerks = _clerk() + _clerk(TRAFFIC_MEMBER, TRAFFIC_OFFICE[0], "clerk")
    before = {
        "use types": {u.code for u in catalogue.use_types(active_only=False)},
        "streets": {s.name_key for s in catalogue.street_zones()},
    }
    for position, (code, name_de, name_en, unit, lead, required, setup) in enumerate(USE_TYPES):
        catalogue.save_use_type(
            SYSTEM,
            UseTypeData(code, name_de, name_en, unit, lead, required, setup, active=True, position=position),
        )
    for name, zone in STREETS:
        catalogue.save_street_zone(SYSTEM, name, zone)
    for code, name_de, name_en, percent in EXEMPTIONS:
        catalogue.save_exemption_reason(SYSTEM, code, name_de, name_en, percent)
    tariffs = 0
    if catalogue.tariff_taking_effect(TARIFF_FROM) is None:
        units = {code: unit for code, _de, _en, unit, *_rest in USE_TYPES}
        rates = [
            RateData(code, zone, units[code], cents)
            for code, by_zone in RATES.items()
            for zone, cents in enumerate(by_zone, start=1)
        ]
        catalogue.add_tariff(
            SYSTEM,
            TARIFF_FROM,
            rates,
            minimum_fee_cents=MINIMUM_FEE_CENTS,
            administrative_fee_cents=ADMINISTRATIVE_FEE_CENTS,
            statute=TARIFF_STATUTE,
        )
        tariffs = 1
    added = {
        "use types": len({u.code for u in catalogue.use_types(active_only=False)} - before["use types"]),
        "streets": len({s.name_key for s in catalogue.street_zones()} - before["streets"]),
        "tariffs": tariffs,
        "clerks": clerks,
    }
    echo("  " + ", ".join(f"{count} {kind}" for kind, count in added.items()) + " added")
    return added
