"""`flask demo load`: the demo departments, locations, catalogue and one account per role; idempotent."""

from __future__ import annotations

import json

import pyotp
import pytest
import sqlalchemy as sa
from click import ClickException

from portal.accounts.models import Organisation, OrganisationMember, User
from portal.accounts.passwords import verify_password
from portal.audit.models import AuditEvent
from portal.demo_data import DEMO_PASSWORD, DEMO_TOTP_SECRET, current_totp_code
from portal.departments.models import CatalogueService, Department, Location
from portal.extensions import db

ROLES = ["clerk", "department_admin", "data_steward", "moderator", "treasury", "dpo", "platform_admin"]
# How many demo accounts hold each role: refunds need a second treasury person (four eyes).
HOLDERS = {"treasury": 2}


@pytest.fixture
def app_config(app_config):
    """The core's demo with the services whose demo data is the system's alone. Data access's demo adds
    steward memberships and agreements approved by demo people (only people may decide approvals); its own
    tests (tests/dataaccess/test_demo.py) cover it."""
    return {**app_config, "SERVICES": ["appointments", "payments"]}


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for name, table in db.metadata.tables.items()
    }


def _load(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_load_twice_is_idempotent(runner):
    first_output = _load(runner)
    after_first = _row_counts()
    second_output = _load(runner)
    assert _row_counts() == after_first
    assert "Summary: 31 created, 0 already present." in first_output
    assert "nothing changed" in second_output
    assert "departments: 0 created, 5 already present" in second_output


def test_demo_load_creates_the_five_departments_and_the_bürgerbüros(runner):
    output = _load(runner)
    for step in ("Departments", "Locations", "Service catalogue", "Demo accounts"):
        assert step in output
    assert set(db.session.scalars(sa.select(Department.name))) == {
        "Bürgeramt",
        "Amt für Bauordnung und Denkmalpflege",
        "Verkehrs- und Tiefbauamt",
        "Stadtkämmerei/Stadtkasse",
        "Hauptamt (IT-Koordination)",
    }
    # Services may add locations of their own (appointments adds a Technisches Rathaus).
    locations = db.session.scalars(sa.select(Location).where(Location.name.like("Bürgerbüro %"))).all()
    assert sorted(location.name for location in locations) == ["Bürgerbüro Mitte", "Bürgerbüro Nord"]
    assert all(len(location.postcode) == 5 and location.latitude and location.longitude for location in locations)
    assert {"Personalausweis beantragen", "Sondernutzungserlaubnis beantragen"} <= set(
        db.session.scalars(sa.select(CatalogueService.name))
    )


def test_demo_load_creates_verified_accounts_for_every_role(runner):
    _load(runner)
    users = db.session.scalars(sa.select(User)).all()
    assert all(user.email_verified_at is not None for user in users)
    assert all(verify_password(user.password_hash, DEMO_PASSWORD) for user in users)
    for role in ROLES:
        holders = [user for user in users if user.has_role(role)]
        assert len(holders) == HOLDERS.get(role, 1), role
        assert all(h.totp_secret == DEMO_TOTP_SECRET and h.totp_enabled_at is not None for h in holders)
    citizen = db.session.scalar(sa.select(User).where(User.email == "buerger@demo.stadtportal.example"))
    assert citizen is not None and not citizen.is_staff and citizen.totp_secret is None
    clerk = next(user for user in users if user.has_role("clerk"))
    assert clerk.memberships[0].department.name == "Bürgeramt"
    steward = next(user for user in users if user.has_role("data_steward"))
    assert steward.memberships[0].department.name == "Hauptamt (IT-Koordination)"
    owner = db.session.scalar(sa.select(OrganisationMember).where(OrganisationMember.role == "owner"))
    assert owner is not None and not owner.user.is_staff
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1


def test_demo_load_is_audited_as_the_system(runner):
    _load(runner)
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert events and {event.actor_type for event in events} == {"system"}
    # The services' demo hooks run after the core and audit their own records.
    loaded = [event for event in events if event.action == "demo.loaded"]
    assert json.loads(loaded[-1].details)["created"]["departments"] == 5
    assert sum(event.action == "role.granted" for event in events) == sum(HOLDERS.get(r, 1) for r in ROLES)


def test_demo_load_is_refused_without_demo_mode(app, runner):
    app.config["DEMO"] = False
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "only available with DEMO on" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_demo_totp_code_matches_the_documented_secret(runner):
    _load(runner)
    code = current_totp_code("admin@demo.stadtportal.example")
    assert pyotp.TOTP(DEMO_TOTP_SECRET).verify(code, valid_window=1)
    with pytest.raises(ClickException, match="no such account"):
        current_totp_code("buerger@demo.stadtportal.example")
