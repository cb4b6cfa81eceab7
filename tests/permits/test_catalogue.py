"""Changes to the catalogue are the department's, and audited: the street list by its clerks, tariffs and use types
by its catalogue admins; saving an unchanged entry writes nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from permits.errors import PermitError
from permits.services import catalogue
from permits.services.catalogue import RateData
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import make_user


def _details(action: str) -> list[dict]:
    query = sa.select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return [json.loads(text) for text in db.session.scalars(query)]


def test_the_clerk_moves_a_street_to_another_zone_and_it_is_audited(world):
    clerk = world.officer_actor
    before = len(_details("permits.street_zone_saved"))
    catalogue.save_street_zone(clerk, "Hauptstr.", 1)  # the same street as "Hauptstraße"
    catalogue.save_street_zone(clerk, "Hauptstr.", 1)  # unchanged: no second event
    events = _details("permits.street_zone_saved")[before:]
    assert events == [{"street": "Hauptstr.", "zone": 1, "was": 2}]
    assert catalogue.find_street("Hauptstraße").zone == 1
    assert catalogue.remove_street_zone(clerk, "HAUPTSTRASSE")
    assert catalogue.find_street("Hauptstraße") is None
    assert _details("permits.street_zone_removed") == [{"street": "Hauptstr.", "zone": 1}]


def test_a_zone_outside_the_statute_is_refused(world):
    with pytest.raises(PermitError) as raised:
        catalogue.save_street_zone(world.officer_actor, "Neue Straße", 10)
    assert (raised.value.field, raised.value.code) == ("zone", "invalid_zone")


def test_only_the_department_changes_the_catalogue(world):
    citizen = world.applicant_actor
    with pytest.raises(Forbidden):
        catalogue.save_street_zone(citizen, "Markt", 3)
    with pytest.raises(Forbidden):  # a clerk keeps the street list, not the tariffs
        catalogue.add_tariff(
            world.officer_actor,
            date(2027, 1, 1),
            [RateData("container", 1, "day", 90)],
            minimum_fee_cents=0,
            administrative_fee_cents=0,
        )
    admin = Actor.for_user(
        make_user("tarife@example.org", department=world.department, department_role="permit_catalogue_admin")
    )
    tariff = catalogue.add_tariff(
        admin, date(2027, 1, 1), [RateData("container", 1, "day", 90)], minimum_fee_cents=0, administrative_fee_cents=0
    )
    assert tariff.created_by == admin.user.id
    assert _details("permits.tariff_added")[-1] == {
        "effective_from": "2027-01-01",
        "rates": 1,
        "minimum_fee_cents": 0,
        "administrative_fee_cents": 0,
    }
