"""The catalogue: datasets and fields by the owning department's data steward, purposes and legal bases by the dpo."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import Forbidden

from dataaccess.errors import DataAccessError
from dataaccess.services import catalogue, records
from portal.actors import SYSTEM, Actor


def test_a_special_category_field_is_marked_special_whatever_the_steward_ticks(world):
    fields = {f.name: f for f in world.permits.fields}

    assert fields["behinderung"].special_category is True
    assert fields["aktenzeichen"].special_category is False


def test_only_the_owning_departments_steward_registers_and_changes_its_datasets(world):
    with pytest.raises(Forbidden):
        catalogue.create_dataset(
            Actor.for_user(world.drafter),
            department_id=world.bauamt.id,
            key="bauamt.heimlich",
            name="Heimlich",
            retention_days=10,
            subject_kind="citizen",
        )
    with pytest.raises(Forbidden):
        catalogue.save_field(Actor.for_user(world.dpo), world.permits.id, name="neu", label="Neu", category="other")


def test_a_dataset_key_is_unique(world):
    with pytest.raises(DataAccessError) as caught:
        catalogue.create_dataset(
            Actor.for_user(world.steward),
            department_id=world.bauamt.id,
            key="bauamt.baugenehmigungen",
            name="Doppelt",
            retention_days=10,
            subject_kind="citizen",
        )
    assert (caught.value.code, caught.value.status) == ("key_taken", 409)


def test_purposes_and_legal_bases_are_kept_by_the_dpo_only(world):
    with pytest.raises(Forbidden):
        catalogue.save_purpose(Actor.for_user(world.steward), code="NEU", label="Neu")
    with pytest.raises(Forbidden):
        catalogue.save_legal_basis(Actor.for_user(world.steward), label="Neu", citation="§ 1")

    purpose = catalogue.save_purpose(Actor.for_user(world.dpo), code="verk-anord", label="Neu formuliert")

    assert (purpose.id, purpose.code, purpose.label) == (world.purpose.id, "VERK-ANORD", "Neu formuliert")


def test_a_record_may_only_hold_fields_of_its_dataset(world):
    with pytest.raises(DataAccessError) as caught:
        records.put_record(
            SYSTEM, "bauamt.baugenehmigungen", "X-1", records.Subject(user_id=world.citizen.id), {"steuernummer": "1"}
        )
    assert caught.value.code == "unknown_field"
