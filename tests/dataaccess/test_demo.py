"""`flask demo load` for data access: catalogue, three datasets, two approved agreements, a few accesses the demo
citizen sees; idempotent; fees read from payments, and no provider when payments is switched off."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from dataaccess.models import AccessAgreement, AccessLog, CitizenRequest, Dataset, DatasetRecord, Purpose
from dataaccess.services import access
from portal.accounts.models import User
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.portal.audit.helpers import sign_in

TABLES = (Purpose, Dataset, DatasetRecord, AccessAgreement, AccessLog, CitizenRequest, AuditEvent)


def _load(runner) -> str:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in TABLES}


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None
    return user


def test_loading_the_demo_twice_creates_the_data_access_demo_once(runner):
    first = _load(runner)
    assert "datasets: 3 created" in first and "agreements: 2 created" in first
    counts = _counts()
    second = _load(runner)
    assert _counts() == counts
    assert "datasets: 0 created, 3 already present" in second and "accesses: 0 created, 1 already present" in second


def test_the_demo_has_three_datasets_and_two_approved_agreements_for_the_road_department(runner):
    _load(runner)
    keys = set(db.session.scalars(sa.select(Dataset.key)))
    assert keys == {"bauordnung.baugenehmigungen", "verkehr.anordnungen", "stadtkasse.gebuehren"}
    approved = list(db.session.scalars(sa.select(AccessAgreement).where(AccessAgreement.state == "approved")))
    # The Hauptamt's agreement for the portal's own status page is the building demo's (tests/building/test_demo.py).
    approved = [a for a in approved if a.consumer_department.slug != "hauptamt"]
    assert len(approved) == 2
    for agreement in approved:
        assert agreement.consumer_department.slug == "verkehr-tiefbau"
        assert len({agreement.requested_by_id, agreement.steward_approved_by_id, agreement.dpo_approved_by_id}) == 3


def test_the_catalogue_and_records_are_audited_as_the_system(runner):
    _load(runner)
    for action in ("dataaccess.dataset_saved", "dataaccess.purpose_saved", "dataaccess.record_saved"):
        actors = set(db.session.scalars(sa.select(AuditEvent.actor_type).where(AuditEvent.action == action)))
        assert actors == {"system"}, action


def test_the_demo_citizen_sees_granted_and_refused_accesses_and_a_standing_request(runner, client):
    _load(runner)
    sign_in(client, _user("buerger@demo.stadtportal.example"))
    html = re.sub(r"\s+", " ", client.get("/konto/datenzugriffe").get_data(as_text=True))
    assert "Verkehrs- und Tiefbauamt: Baugenehmigungen" in html
    assert "Verkehrs- und Tiefbauamt: Bezahlte Gebühren" in html
    assert "Abgerufen: Die Angaben wurden übermittelt." in html
    assert "Abgelehnt: Sie hatten diesen Abruf nicht beantragt." in html
    assert "Abgelehnt: Es wurden Angaben verlangt, die die Vereinbarung nicht erlaubt." in html
    assert "§ 18 SächsStrG i. V. m. Art. 6 Abs. 1 lit. e DSGVO" in html
    assert "dauerhaft, bis Sie widerrufen" in html


def test_the_fees_dataset_reads_the_citizens_paid_payments(runner):
    _load(runner)
    citizen = _user("buerger@demo.stadtportal.example")
    fees = db.session.scalar(sa.select(AccessAgreement).join(Dataset).where(Dataset.key == "stadtkasse.gebuehren"))
    result = access.read(
        Actor.for_user(_user("sachbearbeitung@demo.stadtportal.example")),
        fees.reference,
        "GEBUEHR-PRUEFUNG",
        "DEMO-SNU-2026-0002",
        citizen.id,
        ["kassenzeichen", "verwendungszweck", "betrag_cents"],
    )
    assert result.records and all(
        set(r) == {"kassenzeichen", "verwendungszweck", "betrag_cents"} for r in result.records
    )
    assert {"Reisepass Erika Mustermann"} <= {r["verwendungszweck"] for r in result.records}
    assert "Führungszeugnis Erika Mustermann" not in {r["verwendungszweck"] for r in result.records}  # failed


class TestWithoutPayments:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "SERVICES": ["appointments", "participation", "dataaccess"]}

    def test_the_fees_dataset_has_no_provider_and_reads_no_records(self, app, runner):
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
        fees = db.session.scalar(sa.select(AccessAgreement).join(Dataset).where(Dataset.key == "stadtkasse.gebuehren"))
        assert fees.state == "approved"
        granted = db.session.scalar(
            sa.select(AccessLog).where(AccessLog.dataset_id == fees.dataset_id, AccessLog.outcome == "granted")
        )
        assert granted is not None and granted.record_count == 0
