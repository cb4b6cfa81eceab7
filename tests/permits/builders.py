"""Plain builders for the permit tests: a small catalogue made through the catalogue services, applicants, cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from permits.models import PermitApplication, Tariff
from permits.services import applications, catalogue
from permits.services.catalogue import RateData, UseTypeData
from permits.services.form_data import ApplicationData, data_from
from portal.accounts.models import User
from portal.actors import SYSTEM, Actor
from portal.departments.models import Department
from tests.builders import make_department, make_user

TARIFF_FROM = date(2020, 1, 1)


@dataclass
class World:
    department: Department
    applicant: User
    officer: User
    tariff: Tariff

    @property
    def applicant_actor(self) -> Actor:
        return Actor.for_user(self.applicant)

    @property
    def officer_actor(self) -> Actor:
        return Actor.for_user(self.officer)


def make_catalogue(effective_from: date = TARIFF_FROM) -> Tariff:
    """Four use types, three streets, two exemption reasons, one tariff (container zone 1: 0.80 €/m²/day)."""
    for position, data in enumerate(
        [
            UseTypeData("container", "Container oder Mulde", "Skip or container", "day", 5),
            UseTypeData("scaffolding", "Gerüst", "Scaffolding", "week", 10, ("site_plan", "liability_insurance")),
            UseTypeData("cafe_seating", "Freisitz", "Café seating", "month", 15, ("site_plan",)),
            UseTypeData("event", "Veranstaltung", "Event", "day", 20, (), has_setup_teardown=True),
        ]
    ):
        catalogue.save_use_type(SYSTEM, UseTypeData(**{**data.__dict__, "position": position}))
    catalogue.save_street_zone(SYSTEM, "Markt", 1)
    catalogue.save_street_zone(SYSTEM, "Hauptstraße", 2)
    catalogue.save_street_zone(SYSTEM, "Königsbrücker Straße", 3)
    catalogue.save_exemption_reason(SYSTEM, "charitable", "Gemeinnützige Nutzung", "Charitable use", 100)
    catalogue.save_exemption_reason(
        SYSTEM, "half", "Halbe Befreiung", "Half", 50, covers_administrative_fee=True, proof_required=False
    )
    return catalogue.add_tariff(
        SYSTEM,
        effective_from,
        [
            RateData("container", 1, "day", 80),
            RateData("container", 2, "day", 60),
            RateData("scaffolding", 1, "week", 150),
            RateData("scaffolding", 2, "week", 100),
            RateData("cafe_seating", 1, "month", 600),
            RateData("event", 1, "day", 50, minimum_fee_cents=5000),
        ],
        minimum_fee_cents=1000,
        administrative_fee_cents=2500,
        statute="Sondernutzungssatzung (Test)",
    )


def make_world() -> World:
    department = make_department("verkehr-tiefbau", "Verkehrs- und Tiefbauamt")
    tariff = make_catalogue()
    applicant = make_user("antrag@example.org", display_name="Erika Antrag")
    officer = make_user(
        "tiefbau@example.org",
        display_name="Tim Tiefbau",
        department=department,
        department_role="permit_officer",
        totp=True,
    )
    return World(department, applicant, officer, tariff)


def complete_data(**overrides: object) -> ApplicationData:
    """A container on the Markt, 3 m × 2 m, 1 to 3 June 2026: everything a submission needs."""
    values: dict[str, object] = {
        "use_type": "container",
        "applicant_name": "Erika Antrag",
        "applicant_email": "antrag@example.org",
        "responsible_name": "Paul Polier",
        "street": "Markt",
        "house_number": "3",
        "length_m": "3",
        "width_m": "2",
        "start": date(2026, 6, 1),
        "end": date(2026, 6, 3),
    }
    values.update(overrides)
    return data_from(values)


def make_draft(actor: Actor, **overrides: object) -> PermitApplication:
    application = applications.start_application(actor)
    return applications.save_draft(actor, application, complete_data(**overrides))


def make_building_agreement(app: Any, world: World, *, requires_citizen_request: bool = False) -> Any:
    """The data-access side of a consultation: the building authority's dataset (tests.dataaccess's world) with an
    address field, the purpose SNU-PRUEFUNG, an approved agreement of the permit department, and two building
    permits of the applicant (one at Markt 3, one elsewhere). Returns the agreement."""
    from dataaccess.services import catalogue as da_catalogue
    from dataaccess.services import records
    from tests.dataaccess import builders as da

    app.config["PERMITS_BUILDING_DATASET"] = "bauamt.baugenehmigungen"
    data = da.make_world()
    steward = Actor.for_user(data.steward)
    da_catalogue.save_field(steward, data.permits.id, name="grundstueck", label="Grundstück", category="address")
    snu = da_catalogue.save_purpose(Actor.for_user(data.dpo), code="SNU-PRUEFUNG", label="Prüfung Sondernutzung")
    da.add_member(data.drafter, world.department, "department_admin")
    agreement = da.approved_agreement(
        data,
        consumer_department_id=world.department.id,
        fields=["aktenzeichen", "vorhaben", "grundstueck", "status"],
        purposes=[snu.code],
        requires_citizen_request=requires_citizen_request,
    )
    for number, address in (("BG-2026-0500", "Markt 3, 01067 Musterstadt"), ("BG-2024-0001", "Lindenstraße 1")):
        records.put_record(
            SYSTEM,
            "bauamt.baugenehmigungen",
            number,
            records.Subject(user_id=world.applicant.id),
            {"aktenzeichen": number, "vorhaben": "Fassadensanierung", "grundstueck": address, "status": "genehmigt"},
        )
    return agreement
