"""The case's transitions: which moves the rules allow, who may make them, and that every move is audited with
the applicant as its subject; a business's case belongs to the business."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from permits import rules
from permits.errors import PermitError, PermitNotFound
from permits.models import PermitState
from permits.services import applications
from permits.services.form_data import data_from
from portal.accounts.models import OrganisationMember
from portal.accounts.services.organisations import create_organisation
from portal.actors import SYSTEM, Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import make_user
from tests.permits.builders import make_draft

S = PermitState
TODAY = date(2026, 5, 4)


def _submitted(world):
    actor = world.applicant_actor
    return applications.submit(actor, make_draft(actor), today=TODAY)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        (S.DRAFT, S.SUBMITTED, True),
        (S.SUBMITTED, S.FORMAL_CHECK, True),
        (S.FORMAL_CHECK, S.DOCUMENTS_REQUESTED, True),
        (S.DOCUMENTS_REQUESTED, S.FORMAL_CHECK, True),
        (S.FORMAL_CHECK, S.CONSULTATION, True),
        (S.CONSULTATION, S.GRANTED, True),
        (S.GRANTED, S.FEE_NOTICE, True),
        (S.GRANTED, S.ACTIVE, True),  # exempt: nothing to pay
        (S.FEE_NOTICE, S.PAID, True),
        (S.PAID, S.ACTIVE, True),
        (S.ACTIVE, S.EXTENDED, True),
        (S.EXTENDED, S.ENDED, True),
        (S.ACTIVE, S.REVOKED, True),
        (S.DRAFT, S.GRANTED, False),
        (S.SUBMITTED, S.GRANTED, False),
        (S.FEE_NOTICE, S.ACTIVE, False),  # not before it is paid
        (S.REFUSED, S.GRANTED, False),
        (S.ENDED, S.ACTIVE, False),
        (S.WITHDRAWN, S.SUBMITTED, False),
        (S.GRANTED, S.WITHDRAWN, False),  # too late once decided
    ],
)
def test_which_moves_exist(old, new, allowed):
    assert rules.may_move(old, new) is allowed


def test_every_final_state_is_final():
    assert {S.REFUSED, S.ENDED, S.REVOKED, S.WITHDRAWN} == rules.FINAL
    assert all(state in rules.TRANSITIONS for state in S)


def test_the_clerk_takes_a_case_to_a_permit_and_every_step_is_audited(world):
    application = _submitted(world)
    clerk = world.officer_actor
    for state in (S.FORMAL_CHECK, S.DOCUMENTS_REQUESTED):
        applications.move(clerk, application, state, "Bitte Lageplan nachreichen")
    applications.move(world.applicant_actor, application, S.FORMAL_CHECK, "Lageplan hochgeladen")
    for state in (S.CONSULTATION, S.GRANTED, S.FEE_NOTICE):
        applications.move(clerk, application, state)
    applications.move(SYSTEM, application, S.PAID)
    applications.move(SYSTEM, application, S.ACTIVE)
    assert application.state == S.ACTIVE and application.decided_at is not None
    submitted = _events("permits.application_submitted")
    assert len(submitted) == 1
    assert submitted[0].subject_user_id == world.applicant.id
    moved = _events("permits.application_moved")
    assert [(json.loads(e.details)["was"], json.loads(e.details)["state"]) for e in moved] == [
        ("submitted", "formal_check"),
        ("formal_check", "documents_requested"),
        ("documents_requested", "formal_check"),
        ("formal_check", "consultation"),
        ("consultation", "granted"),
        ("granted", "fee_notice"),
        ("fee_notice", "paid"),
        ("paid", "active"),
    ]
    assert all(e.subject_user_id == world.applicant.id for e in moved)
    assert json.loads(moved[0].details)["case"] == application.reference
    assert application.reference.startswith("SNU-")


@pytest.mark.parametrize(
    ("who", "state", "code"),
    [
        ("applicant", S.FORMAL_CHECK, "not_allowed"),  # the applicant cannot start the clerk's check
        ("applicant", S.GRANTED, "transition_refused"),
        ("clerk", S.WITHDRAWN, "not_allowed"),  # only the applicant withdraws
        ("clerk", S.ACTIVE, "transition_refused"),
        ("clerk", "verschollen", "unknown_state"),
    ],
)
def test_a_refused_move_changes_nothing_and_says_why(world, who, state, code):
    application = _submitted(world)
    actor = world.applicant_actor if who == "applicant" else world.officer_actor
    with pytest.raises(PermitError) as raised:
        applications.move(actor, application, state)
    assert (raised.value.code, raised.value.status, raised.value.field) == (code, 409, "state")
    assert application.state == S.SUBMITTED
    assert _events("permits.application_moved") == []


def test_a_stranger_does_not_find_the_case(world):
    application = _submitted(world)
    stranger = Actor.for_user(make_user("fremd@example.org"))
    with pytest.raises(PermitNotFound):
        applications.move(stranger, application, S.FORMAL_CHECK)
    with pytest.raises(PermitNotFound):
        applications.get_application(stranger, application.public_id)
    other_clerk = Actor.for_user(make_user("anderes@example.org", roles=()))
    with pytest.raises(PermitNotFound):
        applications.withdraw(other_clerk, application)


def test_the_applicant_withdraws_before_the_decision_only(world):
    application = _submitted(world)
    applications.withdraw(world.applicant_actor, application)
    assert application.state == S.WITHDRAWN
    assert len(_events("permits.application_withdrawn")) == 1
    granted = _submitted(world)
    applications.move(world.officer_actor, granted, S.FORMAL_CHECK)
    applications.move(world.officer_actor, granted, S.GRANTED)
    with pytest.raises(PermitError) as raised:
        applications.withdraw(world.applicant_actor, granted)
    assert raised.value.code == "transition_refused"


def test_a_submitted_application_cannot_be_edited_or_submitted_again(world):
    application = _submitted(world)
    reference = application.reference
    with pytest.raises(PermitError) as raised:
        applications.save_draft(world.applicant_actor, application, data_from({"street": "Hauptstraße"}))
    assert raised.value.code == "not_editable"
    with pytest.raises(PermitError):
        applications.submit(world.applicant_actor, application, today=TODAY)
    assert application.reference == reference and application.street == "Markt"


def test_a_business_owns_the_case_its_member_applies_for(world):
    owner = world.applicant
    business = create_organisation(Actor.for_user(owner), "Muster Bau GmbH")
    acting = Actor.for_user(owner, on_behalf_of=f"organisation:{business.id}")
    application = applications.submit(acting, make_draft(acting), today=TODAY)
    assert application.organisation_id == business.id
    assert applications.applications_of(acting) == [application]
    assert applications.applications_of(world.applicant_actor) == []  # as a private person: not theirs
    colleague = make_user("kollege@example.org")
    db.session.add(OrganisationMember(organisation_id=business.id, user_id=colleague.id))
    db.session.commit()
    as_colleague = Actor.for_user(colleague, on_behalf_of=f"organisation:{business.id}")
    assert applications.get_application(as_colleague, application.public_id) is application
