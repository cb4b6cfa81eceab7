"""Builders for data-access tests: two departments, their people, a catalogue, agreements through the real flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from dataaccess.models import AccessAgreement, AccessLog, Dataset, LegalBasis, Purpose
from dataaccess.services import agreements, catalogue, records
from dataaccess.services.agreements import AgreementTerms
from portal.accounts.models import DepartmentMembership, User
from portal.actors import SYSTEM, Actor
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import decide
from portal.audit.models import AuditEvent
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from tests.builders import make_department, make_user

PERMIT_FIELDS = {
    "aktenzeichen": ("Aktenzeichen", "case"),
    "vorhaben": ("Bauvorhaben", "property"),
    "status": ("Stand des Verfahrens", "case"),
    "geburtsdatum": ("Geburtsdatum der Bauherrschaft", "identity"),
    "behinderung": ("Nachweis Schwerbehinderung (barrierefreier Umbau)", "health"),
}


@dataclass
class World:
    """Bauamt owns the permits; Verkehrsamt reads them; Kasse is a third office with nothing to do with it."""

    bauamt: Department
    verkehr: Department
    kasse: Department
    steward: User  # data steward of the Bauamt (the owner)
    dpo: User
    drafter: User  # department admin of the Verkehrsamt (writes and submits agreements)
    official: User  # clerk of the Verkehrsamt (reads)
    outsider: User  # clerk of the Kasse
    citizen: User
    other_citizen: User
    permits: Dataset
    purpose: Purpose
    other_purpose: Purpose
    basis: LegalBasis

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user)


def today() -> date:
    return to_berlin(utcnow()).date()


def make_world() -> World:
    bauamt = make_department("bauamt", "Bauordnungsamt")
    verkehr = make_department("verkehr", "Straßenverkehrsamt")
    kasse = make_department("kasse", "Stadtkasse")
    steward = make_user("steward@stadt.example", department=bauamt, department_role="data_steward", display_name="Sven")
    dpo = make_user("dsb@stadt.example", roles=("dpo",), display_name="Dora")
    drafter = make_user(
        "amtsleitung@stadt.example", department=verkehr, department_role="department_admin", display_name="Vera"
    )
    official = make_user(
        "sachbearbeitung@stadt.example", department=verkehr, department_role="clerk", display_name="Olaf"
    )
    outsider = make_user("kasse@stadt.example", department=kasse, department_role="clerk", display_name="Karl")
    citizen = make_user("buerger@example.org", display_name="Bea Bürger")
    other_citizen = make_user("nachbar@example.org", display_name="Nils Nachbar")

    steward_actor = Actor.for_user(steward)
    permits = catalogue.create_dataset(
        steward_actor,
        department_id=bauamt.id,
        key="bauamt.baugenehmigungen",
        name="Baugenehmigungen",
        retention_days=3650,
        subject_kind="citizen",
        description="Erteilte Baugenehmigungen mit Stand des Verfahrens",
    )
    for name, (label, category) in PERMIT_FIELDS.items():
        catalogue.save_field(steward_actor, permits.id, name=name, label=label, category=category)
    dpo_actor = Actor.for_user(dpo)
    purpose = catalogue.save_purpose(dpo_actor, code="VERK-ANORD", label="Prüfung einer verkehrsrechtlichen Anordnung")
    other_purpose = catalogue.save_purpose(dpo_actor, code="WERBUNG", label="Zusendung von Informationen")
    basis = catalogue.save_legal_basis(
        dpo_actor, label="Straßenverkehrsrecht", citation="Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO"
    )
    for number, user, status in (("BG-2025-0101", citizen, "genehmigt"), ("BG-2026-0007", other_citizen, "in Prüfung")):
        records.put_record(
            SYSTEM,
            "bauamt.baugenehmigungen",
            number,
            records.Subject(user_id=user.id),
            {
                "aktenzeichen": number,
                "vorhaben": "Garage mit Zufahrt",
                "status": status,
                "geburtsdatum": "1980-02-29",
                "behinderung": "GdB 50",
            },
        )
    return World(
        bauamt, verkehr, kasse, steward, dpo, drafter, official, outsider, citizen, other_citizen, permits,
        purpose, other_purpose, basis,
    )  # fmt: skip


def terms(world: World, **changes: Any) -> AgreementTerms:
    base = AgreementTerms(
        consumer_department_id=world.verkehr.id,
        dataset_id=world.permits.id,
        fields=["aktenzeichen", "vorhaben", "status"],
        purposes=[world.purpose.code],
        legal_basis_id=world.basis.id,
        valid_from=today() - timedelta(days=1),
        valid_to=today() + timedelta(days=365),
        requires_case_reference=True,
        requires_citizen_request=False,
        rate_limit_per_hour=100,
        note="Verkehrsrechtliche Anordnungen für Baustellenzufahrten",
    )
    return base.changed(**changes)


def submitted_agreement(world: World, **changes: Any) -> AccessAgreement:
    drafter = Actor.for_user(world.drafter)
    draft = agreements.draft_agreement(drafter, terms(world, **changes))
    return agreements.submit(drafter, draft.id, "Baustellenzufahrten prüfen")


def approval_of(agreement: AccessAgreement, kind: str) -> ApprovalRequest:
    request_id = agreement.steward_approval_id if kind == agreements.STEWARD_KIND else agreement.dpo_approval_id
    request = db.session.get(ApprovalRequest, request_id)
    assert request is not None
    return request


def approve(world: World, agreement: AccessAgreement) -> AccessAgreement:
    """Both approvals through the core's decide: the owning steward, then the dpo."""
    decide(Actor.for_user(world.steward), approval_of(agreement, agreements.STEWARD_KIND).id, approve=True)
    decide(Actor.for_user(world.dpo), approval_of(agreement, agreements.DPO_KIND).id, approve=True)
    db.session.expire_all()
    fresh = db.session.get(AccessAgreement, agreement.id)
    assert fresh is not None and fresh.state == "approved"
    return fresh


def approved_agreement(world: World, **changes: Any) -> AccessAgreement:
    return approve(world, submitted_agreement(world, **changes))


def add_member(user: User, department: Department, role: str) -> None:
    db.session.add(DepartmentMembership(user_id=user.id, department_id=department.id, role=role))
    db.session.commit()


def log_rows() -> list[AccessLog]:
    return list(db.session.scalars(sa.select(AccessLog).order_by(AccessLog.id)))


def audit_event(seq_or_key: int | str | None) -> AuditEvent:
    """The chained audit event, by its seq or by the key an access names it with."""
    if isinstance(seq_or_key, str):
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.event_key == seq_or_key))
    else:
        event = db.session.get(AuditEvent, seq_or_key)
    assert event is not None
    return event
