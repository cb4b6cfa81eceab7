"""Human reference numbers: format, one counter per prefix and year, Berlin's year, registration of prefixes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from portal.references import next_reference, parse_reference, register_prefix
from portal.references import services as reference_services
from portal.references.models import ReferenceCounter
from portal.transaction import transaction


@pytest.fixture(autouse=True)
def prefixes(app):
    register_prefix(app, "SNU", service="permits", description="Sondernutzung")
    register_prefix(app, "TST", service="tests")


def test_first_reference_of_a_year_is_number_one_and_the_next_counts_up(app):
    with transaction():
        first = next_reference("SNU", year=2026)
    with transaction():
        second = next_reference("SNU", year=2026)

    assert (first, second) == ("SNU-2026-000001", "SNU-2026-000002")
    assert parse_reference(second) == ("SNU", 2026, 2)


def test_each_prefix_and_each_year_has_its_own_counter(app):
    with transaction():
        numbers = [
            next_reference("SNU", year=2026),
            next_reference("TST", year=2026),
            next_reference("SNU", year=2027),
            next_reference("SNU", year=2026),
        ]

    assert numbers == ["SNU-2026-000001", "TST-2026-000001", "SNU-2027-000001", "SNU-2026-000002"]


def test_a_rolled_back_case_gives_its_number_to_the_next_one(app):
    with pytest.raises(RuntimeError), transaction():
        assert next_reference("TST", year=2026) == "TST-2026-000001"
        raise RuntimeError("the case could not be saved")

    with transaction():
        assert next_reference("TST", year=2026) == "TST-2026-000001"


def test_the_number_grows_a_seventh_digit_after_999999(app):
    with transaction():
        db.session.add(ReferenceCounter(prefix="TST", year=2026, last_value=999_999))
    with transaction():
        reference = next_reference("TST", year=2026)

    assert reference == "TST-2026-1000000"
    assert parse_reference(reference) == ("TST", 2026, 1_000_000)


def test_the_year_is_the_year_in_berlin_on_new_years_night(app, monkeypatch):
    # 23:30 UTC on 31 December is already 00:30 on 1 January in Berlin.
    monkeypatch.setattr(reference_services, "utcnow", lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    with transaction():
        assert next_reference("TST") == "TST-2027-000001"


def test_a_prefix_nobody_registered_is_refused(app):
    with pytest.raises(LookupError, match="register_prefix"), transaction():
        next_reference("XYZ", year=2026)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReferenceCounter)) == 0


@pytest.mark.parametrize("prefix", ["snu", "S", "SONDER", "S1", "SN-U", ""])
def test_a_prefix_must_be_two_to_five_capital_letters(app, prefix):
    with pytest.raises(ValueError, match="2 to 5 capital letters"):
        register_prefix(app, prefix, service="permits")


def test_two_services_claiming_one_prefix_stop_the_start(app):
    register_prefix(app, "SNU", service="permits")  # the same service again is harmless
    with pytest.raises(ValueError, match="already used by 'permits'"):
        register_prefix(app, "SNU", service="parking")


def test_a_service_claiming_the_approvals_prefix_fails_at_start_up(app_config):
    from flask import Flask

    def register(flask_app: Flask) -> None:
        register_prefix(flask_app, "FRG", service="greedy")

    import sys
    import types

    module = types.ModuleType("greedy_service")
    module.register = register  # type: ignore[attr-defined]
    sys.modules["greedy_service"] = module
    try:
        with pytest.raises(ValueError, match="already used by 'approvals'"):
            create_app({**app_config, "SERVICES": ["greedy_service"]}, env="test")
    finally:
        del sys.modules["greedy_service"]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        (" snu-2026-000042 ", ("SNU", 2026, 42)),
        ("SNU-2026-42", None),
        ("SNU 2026 000042", None),
        ("T-2026-000042", None),
    ],
)
def test_parsing_a_reference(text, parsed):
    assert parse_reference(text) == parsed
