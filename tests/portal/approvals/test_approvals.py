"""Four-eyes approval as a service: who may decide, what an approval carries out, and what stays on the trail."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.actors import Actor
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import ApprovalError, close_request, decide, request_approval, withdraw
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.transaction import transaction
from tests.builders import make_user
from tests.portal.admin.conftest import audit_events
from tests.portal.approvals.conftest import ask_refund


def _state(request_id: int) -> tuple[str, int | None]:
    db.session.expire_all()
    row = db.session.get(ApprovalRequest, request_id)
    return row.state, row.decided_by_id


def _actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_request_gets_a_reference_a_summary_and_an_audit_event_the_citizen_can_see(effects, clerk, citizen):
    request = ask_refund(clerk, citizen)

    assert re.fullmatch(r"FRG-\d{4}-000001", request.reference)
    assert request.summary == "Erstattung von 15.00 EUR"
    assert request.state == "requested"
    [(event, details)] = audit_events("approval.requested")
    assert event.actor_id == str(clerk.id) and event.subject_user_id == citizen.id
    assert details["reference"] == request.reference and details["reason"] == "doppelt bezahlt"
    assert details["payload"] == {"amount_cents": 1500}


def test_the_requester_cannot_approve_their_own_request_even_with_the_role(effects, treasurer, citizen):
    request = ask_refund(treasurer, citizen)

    with pytest.raises(ApprovalError) as refused:
        decide(Actor.for_user(treasurer), request.id, approve=True)

    assert refused.value.code == "own_request"
    assert _state(request.id) == ("requested", None)
    assert effects.approved == [] and "approval.approved" not in _actions()


def test_the_database_itself_refuses_a_decision_by_the_requester(effects, treasurer, citizen):
    request = ask_refund(treasurer, citizen)

    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.id == request.id)
            .values(state="approved", decided_by_id=treasurer.id, decided_at=sa.func.current_timestamp())
        )
        db.session.flush()
    db.session.rollback()


def test_a_person_without_the_role_cannot_decide(effects, clerk, citizen, buergeramt):
    request = ask_refund(clerk, citizen)
    other_clerk = make_user("clerk2@stadt.example", department=buergeramt, department_role="clerk", totp=True)

    for approve in (True, False):
        with pytest.raises(ApprovalError) as refused:
            decide(Actor.for_user(other_clerk), request.id, approve=approve, note="nein")
        assert refused.value.code == "not_allowed"
    assert _state(request.id) == ("requested", None)


def test_approval_runs_the_callback_once_and_records_request_effect_and_decision(effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)

    decided = decide(Actor.for_user(treasurer), request.id, approve=True, note="geprüft")

    assert effects.approved == [request.reference]
    assert (decided.state, decided.decided_by_id, decided.decision_note) == ("approved", treasurer.id, "geprüft")
    assert _actions()[-3:] == ["approval.requested", "tests.refund_paid", "approval.approved"]
    [(event, details)] = audit_events("approval.approved")
    assert event.actor_id == str(treasurer.id) and event.subject_user_id == citizen.id
    assert details == {
        "reference": request.reference,
        "kind": "tests.refund",
        "requested_by": clerk.id,
        "note": "geprüft",
    }


def test_a_callback_that_fails_leaves_the_request_open_and_nothing_written(effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)
    effects.fail = True

    with pytest.raises(RuntimeError, match="payment provider refused"):
        decide(Actor.for_user(treasurer), request.id, approve=True)

    assert _state(request.id) == ("requested", None)
    assert "tests.refund_paid" not in _actions() and "approval.approved" not in _actions()

    effects.fail = False
    decide(Actor.for_user(treasurer), request.id, approve=True)
    assert _state(request.id) == ("approved", treasurer.id)
    assert _actions().count("tests.refund_paid") == 1


def test_a_rejection_needs_a_note_and_runs_the_rejection_callback(effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)

    with pytest.raises(ApprovalError) as refused:
        decide(Actor.for_user(treasurer), request.id, approve=False, note="   ")
    assert (refused.value.code, refused.value.field) == ("note_required", "note")
    assert _state(request.id) == ("requested", None)

    decide(Actor.for_user(treasurer), request.id, approve=False, note="Zahlung ist nicht doppelt eingegangen")

    assert _state(request.id) == ("rejected", treasurer.id)
    assert effects.rejected == [request.reference] and effects.approved == []
    [(event, details)] = audit_events("approval.rejected")
    assert event.subject_user_id == citizen.id
    assert details["note"] == "Zahlung ist nicht doppelt eingegangen"


def test_a_decided_request_cannot_be_decided_again(effects, clerk, treasurer, second_treasurer, citizen):
    request = ask_refund(clerk, citizen)
    decide(Actor.for_user(treasurer), request.id, approve=True)

    with pytest.raises(ApprovalError) as refused:
        decide(Actor.for_user(second_treasurer), request.id, approve=False, note="doch nicht")

    assert refused.value.code == "not_open"
    assert effects.approved == [request.reference] and effects.rejected == []


def test_a_withdrawn_request_cannot_be_decided(effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)

    withdraw(Actor.for_user(clerk), request.id)
    with pytest.raises(ApprovalError) as refused:
        decide(Actor.for_user(treasurer), request.id, approve=True)

    assert refused.value.code == "not_open"
    assert _state(request.id) == ("withdrawn", None)
    assert effects.approved == []
    [(event, details)] = audit_events("approval.withdrawn")
    assert event.actor_id == str(clerk.id) and details == {"reference": request.reference, "kind": "tests.refund"}
    assert effects.withdrawn == [request.reference]  # the kind's callback ran, so the case can go back


def test_a_request_whose_case_ended_is_closed_undecided_and_leaves_every_queue(effects, clerk, treasurer, citizen):
    from portal.approvals.services import decidable_requests

    request = ask_refund(clerk, citizen)
    with transaction():
        row = db.session.get(ApprovalRequest, request.id)
        assert close_request(Actor.for_user(treasurer), row, "Die andere Freigabe wurde abgelehnt.") is True
        assert close_request(Actor.for_user(treasurer), row, "noch einmal") is False  # no longer open

    assert _state(request.id) == ("withdrawn", None)
    assert decidable_requests(Actor.for_user(treasurer)) == []
    with pytest.raises(ApprovalError) as refused:
        decide(Actor.for_user(treasurer), request.id, approve=True)
    assert refused.value.code == "not_open"
    assert effects == type(effects)()  # no callback: the caller handles the case itself
    [(event, details)] = audit_events("approval.closed")
    assert event.actor_id == str(treasurer.id) and event.subject_user_id == citizen.id
    assert details["note"] == "Die andere Freigabe wurde abgelehnt."
    assert db.session.get(ApprovalRequest, request.id).decision_note == "Die andere Freigabe wurde abgelehnt."


def test_only_the_requester_can_withdraw(effects, clerk, treasurer, citizen):
    request = ask_refund(clerk, citizen)

    with pytest.raises(ApprovalError) as refused:
        withdraw(Actor.for_user(treasurer), request.id)

    assert refused.value.code == "not_requester"
    assert _state(request.id) == ("requested", None)


def test_one_open_request_per_subject_and_a_new_one_after_the_decision(effects, clerk, treasurer, citizen):
    first = ask_refund(clerk, citizen, subject_id=7)

    with pytest.raises(ApprovalError) as refused:
        ask_refund(clerk, citizen, subject_id=7, amount_cents=99)
    assert refused.value.code == "already_open"
    other = ask_refund(clerk, citizen, subject_id=8)

    decide(Actor.for_user(treasurer), first.id, approve=False, note="Betrag falsch")
    again = ask_refund(clerk, citizen, subject_id=7, amount_cents=1200)

    # The refused attempt spent no reference number.
    assert [first.reference[-6:], other.reference[-6:], again.reference[-6:]] == ["000001", "000002", "000003"]


def test_a_request_needs_a_reason_and_a_registered_kind(effects, clerk, citizen):
    with pytest.raises(ApprovalError) as no_reason:
        ask_refund(clerk, citizen, reason="  ")
    with pytest.raises(ApprovalError) as unknown:
        request_approval(Actor.for_user(clerk), "tests.unknown", ("x", 1), {}, "weil")

    assert (no_reason.value.code, no_reason.value.field) == ("reason_required", "reason")
    assert unknown.value.code == "unknown_kind"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApprovalRequest)) == 0


def test_a_department_scoped_kind_is_decided_only_by_the_role_in_that_department(effects, clerk, buergeramt, bauamt):
    request = request_approval(
        Actor.for_user(clerk), "tests.access", ("dataset", 3), {}, "Auswertung", department_id=buergeramt.id
    )
    steward_elsewhere = make_user("bau@stadt.example", department=bauamt, department_role="data_steward", totp=True)
    steward_here = make_user("daten@stadt.example", department=buergeramt, department_role="data_steward", totp=True)

    with pytest.raises(ApprovalError) as refused:
        decide(Actor.for_user(steward_elsewhere), request.id, approve=True)
    assert refused.value.code == "not_allowed"

    decide(Actor.for_user(steward_here), request.id, approve=True)
    assert _state(request.id) == ("approved", steward_here.id)
    # This kind does not show its events to a citizen.
    assert audit_events("approval.approved")[0][0].subject_user_id is None


def test_a_kind_naming_an_undeclared_role_or_registered_twice_stops_the_start(app, effects):
    from portal.approvals.services import ApprovalKind, register_kind

    with pytest.raises(ValueError, match="undeclared roles kasse"):
        register_kind(app, ApprovalKind("tests.typo", "Tippfehler", ("kasse",), on_approved=lambda a, r: None))
    with pytest.raises(ValueError, match="registered twice"):
        register_kind(app, ApprovalKind("tests.refund", "Noch einmal", ("treasury",), on_approved=lambda a, r: None))
