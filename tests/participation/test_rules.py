"""The phase rules: each action only in a phase that opens it, with a message saying when it opens or closed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from participation import rules
from participation.errors import ActionRefused
from participation.models import Consultation
from participation.services import comments, consultations, proposals, supports
from participation.services import phases as phase_service
from portal.accounts.models import OidcIdentity
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from tests.participation.builders import DAY, actor, make_consultation, make_proposal

HOUR = timedelta(hours=1)


def _attempt(world, consultation: Consultation, action: str, who=None, proposal_id: int | None = None):
    person = actor(world.anna) if who is None else who
    if action == rules.PROPOSE:
        return proposals.create_proposal(person, consultation.id, title="Ein Brunnen", body="Zum Abkühlen.")
    if action == rules.COMMENT:
        return comments.create_comment(person, consultation.id, body="Dazu eine Frage.", guest_name="Gustav")
    assert proposal_id is not None
    return supports.support(person, proposal_id)


def _moved_after_a_proposal(world, phases: list[tuple[str, timedelta, timedelta]]) -> tuple[Consultation, int]:
    """A consultation whose proposals phase ran while a proposal was made, then moved to `phases`."""
    consultation = make_consultation(world, phases=[("proposals", -DAY, DAY)])
    proposal = make_proposal(world, consultation)
    manager, now = actor(world.manager), utcnow()
    kind, start, end = next(p for p in phases if p[0] == "proposals")
    phase_id = consultation.phases[0].id
    phase_service.update_phase(
        manager, phase_id, kind=kind, title="Vorschläge", starts_at=now + start, ends_at=now + end
    )
    for kind, start, end in phases:
        if kind != "proposals":
            phase_service.add_phase(
                manager, consultation.id, kind=kind, title=kind, starts_at=now + start, ends_at=now + end
            )
    return db.session.get(Consultation, consultation.id), proposal.id


def test_phase_actions_give_each_kind_its_actions():
    assert rules.PHASE_ACTIONS["proposals"] == ("propose", "comment", "support")
    assert rules.PHASE_ACTIONS["comments"] == ("comment", "support")
    assert rules.PHASE_ACTIONS["information"] == ()
    assert rules.PHASE_ACTIONS["results"] == ()
    assert set(rules.PHASE_ACTIONS) == {"information", "proposals", "comments", "draft", "survey", "voting", "results"}


@pytest.mark.parametrize("action", [rules.PROPOSE, rules.COMMENT, rules.SUPPORT])
def test_an_action_before_its_phase_is_refused_saying_when_it_opens(world, action):
    consultation, proposal_id = _moved_after_a_proposal(
        world, [("information", -DAY, 2 * DAY), ("proposals", 2 * DAY, 9 * DAY)]
    )
    opens = to_berlin(next(p for p in consultation.phases if p.kind == "proposals").starts_at)

    with pytest.raises(ActionRefused) as refused:
        _attempt(world, consultation, action, proposal_id=proposal_id)

    assert refused.value.code == "phase_closed"
    assert refused.value.status == 409
    assert str(refused.value.message) == (
        f"{rules.ACTION_LABELS[action]} ist ab dem {opens.strftime('%d.%m.%Y, %H:%M Uhr')} möglich."
    )


@pytest.mark.parametrize("action", [rules.PROPOSE, rules.COMMENT, rules.SUPPORT])
def test_an_action_after_its_phase_is_refused_saying_when_it_closed(world, action):
    consultation, proposal_id = _moved_after_a_proposal(
        world, [("proposals", -9 * DAY, -DAY), ("results", -DAY, 9 * DAY)]
    )
    closed = to_berlin(next(p for p in consultation.phases if p.kind == "proposals").ends_at)

    with pytest.raises(ActionRefused) as refused:
        _attempt(world, consultation, action, proposal_id=proposal_id)

    assert refused.value.code == "phase_closed"
    assert str(refused.value.message) == (
        f"{rules.ACTION_LABELS[action]} war bis zum {closed.strftime('%d.%m.%Y, %H:%M Uhr')} möglich."
    )


def test_proposing_in_a_comments_phase_is_refused_while_commenting_is_open(world):
    consultation = make_consultation(world, phases=[("comments", -DAY, DAY)])

    with pytest.raises(ActionRefused) as refused:
        _attempt(world, consultation, rules.PROPOSE)
    comment = _attempt(world, consultation, rules.COMMENT)

    assert refused.value.code == "phase_closed"
    assert str(refused.value.message) == "Vorschläge einreichen ist in diesem Beteiligungsverfahren nicht vorgesehen."
    assert comment.body == "Dazu eine Frage."


def test_a_manager_can_open_other_actions_than_the_kinds_default(world):
    consultation = make_consultation(world, phases=[], publish=False)
    phase_service.add_phase(
        actor(world.manager),
        consultation.id,
        kind="information",
        title="Fragen erlaubt",
        starts_at=utcnow() - DAY,
        ends_at=utcnow() + DAY,
        actions=["comment"],
    )
    consultations.publish(actor(world.manager), consultation.id)

    assert _attempt(world, consultation, rules.COMMENT).depth == 0
    with pytest.raises(ActionRefused):
        _attempt(world, consultation, rules.PROPOSE)


def test_the_phase_in_force_runs_from_its_start_up_to_but_not_including_its_end(world):
    consultation = make_consultation(world, phases=[("information", -DAY, DAY), ("proposals", DAY, 3 * DAY)])
    boundary = consultation.phases[1].starts_at

    assert rules.phase_in_force(consultation, boundary - timedelta(microseconds=1)).kind == "information"
    assert rules.phase_in_force(consultation, boundary).kind == "proposals"
    assert rules.phase_in_force(consultation, consultation.phases[1].ends_at) is None
    assert rules.refusal(actor(world.anna), consultation, rules.PROPOSE, now=boundary) is None
    assert rules.refusal(actor(world.anna), consultation, rules.PROPOSE, now=boundary - HOUR).code == "phase_closed"


def test_nothing_can_be_done_in_a_draft_or_a_closed_consultation(world):
    draft = make_consultation(world, publish=False)
    closed = make_consultation(world, title="Radweg Nord")
    consultations.close(actor(world.manager), closed.id)

    draft_refusal = rules.refusal(actor(world.anna), draft, rules.PROPOSE)
    closed_refusal = rules.refusal(actor(world.anna), closed, rules.PROPOSE)

    assert (draft_refusal.code, str(draft_refusal)) == (
        "not_published",
        "Dieses Beteiligungsverfahren ist noch nicht veröffentlicht.",
    )
    assert (closed_refusal.code, str(closed_refusal)) == ("closed", "Dieses Beteiligungsverfahren ist abgeschlossen.")
    with pytest.raises(ActionRefused) as refused:
        _attempt(world, closed, rules.PROPOSE)
    assert refused.value.code == "closed"


def test_without_an_account_one_is_asked_to_sign_in(world):
    consultation = make_consultation(world)

    with pytest.raises(ActionRefused) as refused:
        _attempt(world, consultation, rules.COMMENT, who=ANONYMOUS)

    assert refused.value.code == "sign_in_required"
    assert refused.value.status == 401
    assert str(refused.value.message) == "Bitte melden Sie sich an, um mitzumachen."


def test_guests_may_comment_but_not_propose_where_guests_are_invited(world):
    consultation = make_consultation(world, audience="guests")

    comment = _attempt(world, consultation, rules.COMMENT, who=ANONYMOUS)
    with pytest.raises(ActionRefused) as refused:
        _attempt(world, consultation, rules.PROPOSE, who=ANONYMOUS)

    assert comment.state == "pending"
    assert refused.value.code == "guests_comment_only"


def test_verified_only_consultations_need_a_substantial_sign_in(world):
    consultation = make_consultation(world, audience="verified")

    with pytest.raises(ActionRefused) as refused:
        _attempt(world, consultation, rules.PROPOSE)
    db.session.add(
        OidcIdentity(
            issuer="https://id.bund.example", subject="a-1", user_id=world.anna.id, assurance_level="substantiell"
        )
    )
    db.session.commit()

    assert refused.value.code == "verified_required"
    assert "BundID" in str(refused.value.message)
    assert _attempt(world, consultation, rules.PROPOSE).title == "Ein Brunnen"


def test_an_unknown_action_is_a_programming_error(world):
    consultation = make_consultation(world)

    with pytest.raises(ValueError, match="unknown participation action"):
        rules.refusal(actor(world.anna), consultation, "shout")


def test_a_support_of_a_proposal_made_while_open_is_refused_once_the_phase_has_ended(world):
    consultation = make_consultation(world, phases=[("proposals", -DAY, HOUR)])
    proposal = make_proposal(world, consultation)

    later = rules.refusal(actor(world.ben), consultation, rules.SUPPORT, now=utcnow() + 2 * HOUR)

    assert later is not None and later.code == "phase_closed"
    assert "Vorschläge unterstützen war bis zum" in str(later)
    assert supports.support(actor(world.ben), proposal.id).support_count == 1
