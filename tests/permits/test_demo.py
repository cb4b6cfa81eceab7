"""`flask demo load` adds the permit catalogue once: the issue's use types, Markt in zone 1, the tariff under which the
container example costs 39.40 €; a second run changes nothing and writes no audit event."""

from __future__ import annotations

import sqlalchemy as sa

from permits.models import ExemptionReason, StreetZone, Tariff, TariffRate, UseType
from portal.audit.models import AuditEvent
from portal.extensions import db

TABLES = (UseType, StreetZone, Tariff, TariffRate, ExemptionReason, AuditEvent)


def _counts() -> dict[str, int]:
    return {table.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(table)) for table in TABLES}


def test_demo_load_adds_the_catalogue_once_and_the_example_reproduces(app, runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    assert counts["UseType"] == 8 and counts["TariffRate"] == 24 and counts["StreetZone"] >= 5
    codes = set(db.session.scalars(sa.select(UseType.code)))
    assert codes == {
        "scaffolding",
        "container",
        "site_equipment",
        "cafe_seating",
        "goods_display",
        "information_stand",
        "event",
        "filming",
    }
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert _counts() == counts
    body = {"use_type": "container", "street": "Markt", "area_m2": 6, "start": "2027-06-01", "end": "2027-06-03"}
    assert client.post("/api/v1/permits/fee-preview", json=body).get_json()["total_cents"] == 3940
    zones = {entry.name: entry.zone for entry in db.session.scalars(sa.select(StreetZone))}
    assert zones["Markt"] == 1 and {2, 3} <= set(zones.values())


def test_demo_load_adds_the_permit_desks_clerk_once(app, runner):
    from portal.accounts.models import User
    from portal.departments.services import get_department_by_slug

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    [clerk] = db.session.scalars(sa.select(User).where(User.email == "sondernutzung@demo.stadtportal.example"))
    department = get_department_by_slug("verkehr-tiefbau")
    assert clerk.has_role("permit_officer", department.id) and clerk.totp_enabled_at is not None
    assert [m.role for m in clerk.memberships] == ["permit_officer"]


def test_demo_load_adds_the_traffic_office_with_a_member_once(app, runner):
    from portal.accounts.models import User
    from portal.departments.services import get_department_by_slug

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    office = get_department_by_slug("strassenverkehr")
    assert office is not None and office.name == "Straßenverkehrsbehörde" and office.email
    [member] = db.session.scalars(sa.select(User).where(User.email == "verkehrsbehoerde@demo.stadtportal.example"))
    assert [(m.department_id, m.role) for m in member.memberships] == [(office.id, "clerk")]
