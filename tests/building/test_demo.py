"""`flask demo load` sets up the portal's own agreement and client (the demo citizen reads their building
applications at once) and the controlling account; loading twice changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from building import services
from dataaccess.models import AccessAgreement, AccessClient
from portal.accounts.models import User
from portal.actors import Actor
from portal.extensions import db


def _load(runner) -> str:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None
    return user


def test_demo_citizen_reads_their_building_applications_and_controlling_has_its_account(runner):
    _load(runner)
    agreement = db.session.scalar(
        sa.select(AccessAgreement)
        .where(AccessAgreement.purposes.is_not(None), AccessAgreement.state == "approved")
        .where(AccessAgreement.note.like("Das Bürgerportal%"))
    )
    assert agreement is not None and agreement.consumer_department.slug == "hauptamt"
    assert len({agreement.requested_by_id, agreement.steward_approved_by_id, agreement.dpo_approved_by_id}) == 3
    citizen = _user("buerger@demo.stadtportal.example")
    outcome = services.my_applications(Actor.for_user(citizen))
    assert outcome.available and [a["aktenzeichen"] for a in outcome.applications] == ["BG-2026-0142", "BG-2025-0877"]
    assert services.advice_service_id() is not None
    assert _user("controlling@demo.stadtportal.example").has_role("controlling")
    clients = db.session.scalar(sa.select(sa.func.count()).select_from(AccessClient))
    _load(runner)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessClient)) == clients
