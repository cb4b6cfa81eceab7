"""Agreements: drafted by the consumer, approved by the owning data steward AND the dpo (never the requester),
never changed once submitted, superseded by a new version, revoked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from dataaccess.errors import AccessRefused, DataAccessError
from dataaccess.models import AccessAgreement
from dataaccess.services import access, agreements
from portal.actors import Actor
from portal.approvals.services import ApprovalError, decidable_requests, decide
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import make_user
from tests.dataaccess.builders import (
    add_member,
    approval_of,
    approve,
    approved_agreement,
    submitted_agreement,
    terms,
)

STEWARD, DPO = agreements.STEWARD_KIND, agreements.DPO_KIND


def _fresh(agreement: AccessAgreement) -> AccessAgreement:
    db.session.expire_all()
    found = db.session.get(AccessAgreement, agreement.id)
    assert found is not None
    return found


def _read_code(world, reference) -> str:
    with pytest.raises(AccessRefused) as caught:
        access.read(Actor.for_user(world.official), reference, world.purpose.code, "VA-1", world.citizen.id, ["status"])
    return caught.value.code


def test_submitting_asks_the_owning_steward_and_the_dpo_in_one_go(world):
    agreement = submitted_agreement(world)

    assert agreement.state == "submitted" and agreement.reference.startswith("DZV-")
    steward_request, dpo_request = approval_of(agreement, STEWARD), approval_of(agreement, DPO)
    assert steward_request.department_id == world.bauamt.id and dpo_request.department_id is None
    assert {steward_request.requested_by_id, dpo_request.requested_by_id} == {world.drafter.id}
    assert [r.id for r in decidable_requests(Actor.for_user(world.steward))] == [steward_request.id]
    assert [r.id for r in decidable_requests(Actor.for_user(world.dpo))] == [dpo_request.id]
    assert "Baugenehmigungen" in steward_request.summary and "Straßenverkehrsamt" in steward_request.summary


def test_the_requester_cannot_approve_their_own_agreement(world):
    # The drafter is also a data steward of the owning department and the dpo: still not allowed.
    add_member(world.drafter, world.bauamt, "data_steward")
    agreement = submitted_agreement(world)

    with pytest.raises(ApprovalError) as caught:
        decide(Actor.for_user(world.drafter), approval_of(agreement, STEWARD).id, approve=True)

    assert caught.value.code == "own_request"
    assert _fresh(agreement).steward_approved_at is None


def test_the_steward_alone_does_not_make_it_approved(world):
    agreement = submitted_agreement(world)

    decide(Actor.for_user(world.steward), approval_of(agreement, STEWARD).id, approve=True)

    agreement = _fresh(agreement)
    assert agreement.state == "submitted" and agreement.steward_approved_by_id == world.steward.id
    assert _read_code(world, agreement.reference) == "not_approved"


def test_the_dpo_alone_does_not_make_it_approved_either(world):
    agreement = submitted_agreement(world)

    decide(Actor.for_user(world.dpo), approval_of(agreement, DPO).id, approve=True)

    assert _fresh(agreement).state == "submitted"


def test_steward_and_dpo_together_approve_it_in_the_second_decision(world):
    agreement = submitted_agreement(world)
    decide(Actor.for_user(world.dpo), approval_of(agreement, DPO).id, approve=True)

    decide(Actor.for_user(world.steward), approval_of(agreement, STEWARD).id, approve=True)

    agreement = _fresh(agreement)
    assert agreement.state == "approved" and agreement.approved_at is not None
    assert (agreement.steward_approved_by_id, agreement.dpo_approved_by_id) == (world.steward.id, world.dpo.id)
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("dataaccess.agreement%")).order_by(AuditEvent.seq)
    ).all()
    assert actions == [
        "dataaccess.agreement_drafted",
        "dataaccess.agreement_submitted",
        "dataaccess.agreement_approval_recorded",
        "dataaccess.agreement_approved",
    ]


def test_a_steward_of_another_department_cannot_give_the_owners_approval(world):
    other_steward = make_user("steward-kasse@stadt.example", department=world.kasse, department_role="data_steward")
    agreement = submitted_agreement(world)

    with pytest.raises(ApprovalError) as caught:
        decide(Actor.for_user(other_steward), approval_of(agreement, STEWARD).id, approve=True)

    assert caught.value.code == "not_allowed"


def test_one_person_cannot_give_both_approvals(world):
    add_member(world.dpo, world.bauamt, "data_steward")
    agreement = submitted_agreement(world)
    decide(Actor.for_user(world.dpo), approval_of(agreement, DPO).id, approve=True)

    with pytest.raises(ApprovalError) as caught:
        decide(Actor.for_user(world.dpo), approval_of(agreement, STEWARD).id, approve=True)

    assert caught.value.code == "two_approvers"
    assert _fresh(agreement).state == "submitted"


def test_the_author_of_the_draft_cannot_approve_what_a_colleague_submitted(world):
    colleague = make_user("vertretung@stadt.example", department=world.verkehr, department_role="department_admin")
    add_member(world.drafter, world.bauamt, "data_steward")
    draft = agreements.draft_agreement(Actor.for_user(world.drafter), terms(world))
    agreement = agreements.submit(Actor.for_user(colleague), draft.id)

    with pytest.raises(ApprovalError) as caught:
        decide(Actor.for_user(world.drafter), approval_of(agreement, STEWARD).id, approve=True)

    assert caught.value.code == "own_request"


def test_a_rejected_version_stays_unusable_and_the_other_approval_cannot_revive_it(world):
    agreement = submitted_agreement(world)

    decide(Actor.for_user(world.steward), approval_of(agreement, STEWARD).id, approve=False, note="Zu viele Felder")

    agreement = _fresh(agreement)
    assert (agreement.state, agreement.end_reason, agreement.ended_by_id) == (
        "rejected",
        "Zu viele Felder",
        world.steward.id,
    )
    # The DPO's request left the queue with the rejection: nothing is left to decide.
    dpo_request = approval_of(agreement, DPO)
    assert (dpo_request.state, dpo_request.decided_by_id) == ("withdrawn", None)
    assert "abgelehnt" in dpo_request.decision_note
    assert decidable_requests(Actor.for_user(world.dpo)) == []
    with pytest.raises(ApprovalError) as caught:
        decide(Actor.for_user(world.dpo), dpo_request.id, approve=True)
    assert caught.value.code == "not_open"
    assert _fresh(agreement).state == "rejected"
    assert _read_code(world, agreement.reference) == "not_approved"


def test_withdrawing_one_request_makes_the_version_a_draft_again_and_closes_the_other(world):
    from portal.approvals.services import withdraw

    agreement = submitted_agreement(world)
    submitter = world.drafter
    steward_request, dpo_request = approval_of(agreement, STEWARD), approval_of(agreement, DPO)

    withdraw(Actor.for_user(submitter), steward_request.id)

    agreement = _fresh(agreement)
    assert (agreement.state, agreement.submitted_at, agreement.steward_approval_id) == ("draft", None, None)
    db.session.refresh(dpo_request)
    assert dpo_request.state == "withdrawn" and "zurückgezogen" in dpo_request.decision_note
    assert decidable_requests(Actor.for_user(world.dpo)) == []
    changed = agreements.update_draft(Actor.for_user(world.drafter), agreement.id, terms(world, fields=["status"]))
    assert changed.fields == ["status"]
    resubmitted = agreements.submit(Actor.for_user(submitter), agreement.id)
    assert resubmitted.state == "submitted"
    assert {r.id for r in decidable_requests(Actor.for_user(world.dpo))} == {resubmitted.dpo_approval_id}


def test_a_submitted_version_is_never_changed(world):
    agreement = submitted_agreement(world)

    with pytest.raises(DataAccessError) as caught:
        agreements.update_draft(Actor.for_user(world.drafter), agreement.id, terms(world, fields=["aktenzeichen"]))

    assert caught.value.code == "not_a_draft"
    assert _fresh(agreement).fields == ["aktenzeichen", "vorhaben", "status"]


def test_a_new_version_supersedes_the_old_one_once_approved(world):
    v1 = approved_agreement(world)
    drafter = Actor.for_user(world.drafter)
    v2 = agreements.new_version(drafter, v1.id, terms(world, fields=["aktenzeichen"]))
    assert (v2.reference, v2.version, v2.state) == (v1.reference, 2, "draft")
    agreements.submit(drafter, v2.id)
    # While v2 waits, v1 stays in force.
    assert agreements.resolve(v1.reference).id == v1.id

    approve(world, _fresh(v2))

    assert (_fresh(v1).state, _fresh(v2).state) == ("superseded", "approved")
    assert agreements.resolve(v1.reference).id == v2.id
    official = Actor.for_user(world.official)
    result = access.read(official, v1.reference, world.purpose.code, "VA-1", world.citizen.id, ["aktenzeichen"])
    assert result.version == 2
    with pytest.raises(AccessRefused) as caught:
        access.read(official, v1.reference, world.purpose.code, "VA-1", world.citizen.id, ["status"])
    assert caught.value.code == "field_not_allowed"
    with pytest.raises(AccessRefused) as caught:
        access.read(official, v1.id, world.purpose.code, "VA-1", world.citizen.id, ["aktenzeichen"])
    assert caught.value.code == "superseded"


def test_only_one_open_version_at_a_time(world):
    v1 = approved_agreement(world)
    agreements.new_version(Actor.for_user(world.drafter), v1.id)

    with pytest.raises(DataAccessError) as caught:
        agreements.new_version(Actor.for_user(world.drafter), v1.id)

    assert caught.value.code == "version_open"


def test_the_dpo_or_the_owning_steward_may_revoke_but_not_the_consumer(world):
    agreement = approved_agreement(world)

    with pytest.raises(Forbidden):
        agreements.revoke(Actor.for_user(world.drafter), agreement.id, "will nicht mehr")
    agreements.revoke(Actor.for_user(world.steward), agreement.id, "Datenbestand wird abgelöst")

    assert _fresh(agreement).state == "revoked"


def test_only_the_consumer_departments_admins_and_stewards_draft_agreements(world):
    with pytest.raises(Forbidden):
        agreements.draft_agreement(Actor.for_user(world.official), terms(world))
    with pytest.raises(Forbidden):
        agreements.draft_agreement(Actor.for_user(world.outsider), terms(world))


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"fields": ["aktenzeichen", "steuernummer"]}, "fields", "unknown_field"),
        ({"fields": []}, "fields", "required"),
        ({"purposes": ["GIBTS-NICHT"]}, "purposes", "unknown_purpose"),
        ({"rate_limit_per_hour": 0}, "rate_limit_per_hour", "out_of_range"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(world, changes, field, code):
    with pytest.raises(DataAccessError) as caught:
        agreements.draft_agreement(Actor.for_user(world.drafter), terms(world, **changes))

    assert (caught.value.field, caught.value.code) == (field, code)


def test_a_period_ending_before_it_starts_is_refused(world):
    from datetime import timedelta

    from tests.dataaccess.builders import today

    with pytest.raises(DataAccessError) as caught:
        agreements.draft_agreement(
            Actor.for_user(world.drafter), terms(world, valid_from=today(), valid_to=today() - timedelta(days=1))
        )
    assert caught.value.code == "bad_period"


def test_an_agreement_for_the_owners_own_data_is_refused(world):
    admin = make_user("leitung-bau@stadt.example", department=world.bauamt, department_role="department_admin")

    with pytest.raises(DataAccessError) as caught:
        agreements.draft_agreement(Actor.for_user(admin), terms(world, consumer_department_id=world.bauamt.id))

    assert caught.value.code == "same_department"
