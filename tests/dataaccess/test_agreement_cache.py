"""A worker keeps the approved agreement versions it has read under (dataaccess.services.agreement_cache): a
version revoked or superseded after a granted read must refuse, or give way to the new version, at the very next
access. Revoking does not touch the worker's memory (another worker or host may be the one revoking), so each
of these fails if the access stops confirming the kept version against the database."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from dataaccess.errors import AccessRefused
from dataaccess.services import access, agreements
from portal.actors import Actor
from portal.departments.models import Department
from portal.extensions import db
from tests.dataaccess.builders import World, approve, approved_agreement, audit_event, terms


def _read(world: World, agreement, fields=("aktenzeichen", "status")):
    official = Actor.for_user(world.official)
    return access.read(official, agreement, world.purpose.code, "VA-1", world.citizen.id, list(fields))


def _refusal(world: World, agreement, fields=("aktenzeichen", "status")) -> str:
    with pytest.raises(AccessRefused) as caught:
        _read(world, agreement, fields)
    return caught.value.code


def test_a_revoked_agreement_refuses_the_next_read_after_a_granted_one(world):
    agreement = approved_agreement(world)
    assert _read(world, agreement.reference).version == 1
    assert _read(world, agreement.id).version == 1

    agreements.revoke(Actor.for_user(world.dpo), agreement.id, "Rechtsgrundlage entfallen")

    assert _refusal(world, agreement.reference) == "revoked"
    assert _refusal(world, agreement.id) == "revoked"
    assert _refusal(world, f" {agreement.reference.lower()} ") == "revoked"


def test_a_new_version_approved_after_a_granted_read_is_the_one_the_next_read_uses(world):
    v1 = approved_agreement(world)
    assert _read(world, v1.reference).version == 1
    assert _read(world, v1.id).version == 1
    drafter = Actor.for_user(world.drafter)
    v2 = agreements.new_version(drafter, v1.id, terms(world, fields=["aktenzeichen"]))
    agreements.submit(drafter, v2.id)
    approve(world, v2)

    result = _read(world, v1.reference, ["aktenzeichen"])
    assert (result.version, result.fields) == (2, ("aktenzeichen",))
    assert _refusal(world, v1.reference) == "field_not_allowed"
    assert _refusal(world, v1.id, ["aktenzeichen"]) == "superseded"


def test_a_renamed_consuming_department_is_logged_with_its_new_name(world):
    agreement = approved_agreement(world)
    _read(world, agreement.reference)
    db.session.execute(sa.update(Department).where(Department.id == world.verkehr.id).values(name="Amt für Mobilität"))
    db.session.commit()

    result = _read(world, agreement.reference)

    assert json.loads(audit_event(result.audit_event).details)["department"] == "Amt für Mobilität"
