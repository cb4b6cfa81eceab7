"""Moderation: flags make a queue with deadlines; hiding keeps the text and tells the author why; one appeal;
blocks refuse taking part; pre-moderated contributions wait; counters, audit events and figures stay right."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden, NotFound

from participation import rules
from participation.errors import ActionRefused, ParticipationError
from participation.models import Comment, Proposal
from participation.models_moderation import Appeal, Flag, ModerationCase
from participation.services import comments, moderation, moderation_people, moderation_queue, supports
from portal.actors import ANONYMOUS
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from tests.participation.builders import (
    World,
    actor,
    events,
    fresh,
    make_comment,
    make_consultation,
    make_person,
    make_proposal,
)

HOUR = timedelta(hours=1)


@pytest.fixture
def mods(world: World):
    """Two moderators: Moritz hides, Maja decides appeals (not the same person)."""
    moritz = make_person("moritz@stadt.example", roles=("moderator",), display_name="Moritz Moderator")
    maja = make_person("maja@stadt.example", roles=("moderator",), display_name="Maja Moderatorin")
    return moritz, maja


def _flag(world: World, who, row, reason: str = "abuse", text: str = ""):
    kind = "proposal" if isinstance(row, Proposal) else "comment"
    return moderation.flag(actor(who), kind, row.id, reason=reason, text=text)


def test_a_flag_opens_a_case_in_the_queue_with_its_deadline_and_more_flags_join_it(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)

    _flag(world, world.ben, proposal, "spam", "Werbung für einen Laden")
    _flag(world, world.newcomer, proposal, "abuse")

    entries = moderation_queue.queue(actor(mods[0]))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.case.cause, entry.flags, sorted(entry.reasons)) == ("flag", 2, ["abuse", "spam"])
    assert entry.case.deadline_at - entry.case.created_at == timedelta(hours=24)
    assert not entry.overdue
    assert (entry.author_name, entry.contribution.id) == ("Anna Aktiv", proposal.id)
    event = events("participation.flagged")[0]
    assert event.subject_user_id == world.ben.id  # the reporter's own log, never the author's
    assert json.loads(event.details) == {
        "consultation": consultation.slug,
        "kind": "proposal",
        "contribution": proposal.reference,
        "reason": "spam",
    }


def test_flagging_twice_flagging_ones_own_and_flagging_a_hidden_contribution_are_refused(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    _flag(world, world.ben, proposal)

    with pytest.raises(ParticipationError) as twice:
        _flag(world, world.ben, proposal)
    with pytest.raises(ParticipationError) as own:
        _flag(world, world.anna, proposal)
    with pytest.raises(ParticipationError) as other:
        moderation.flag(actor(world.newcomer), "proposal", proposal.id, reason="other", text="")
    with pytest.raises(ActionRefused) as guest:
        moderation.flag(ANONYMOUS, "proposal", proposal.id, reason="spam")

    assert (twice.value.code, own.value.code, other.value.field) == ("already_flagged", "own_contribution", "text")
    assert guest.value.code == "sign_in_required"
    moderation.hide(actor(mods[0]), "proposal", proposal.id, reason="spam")
    with pytest.raises(ParticipationError) as hidden:
        _flag(world, world.newcomer, proposal)
    assert hidden.value.code == "not_flaggable"
    assert db.session.scalar(sa.select(sa.func.count(Flag.id))) == 1


def test_hiding_keeps_the_text_lowers_the_counter_and_tells_the_author_why(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation, body="Ein Text, der gegen die Regeln verstößt.")
    _flag(world, world.ben, proposal)
    assert fresh(consultation).proposal_count == 1

    moderation.hide(actor(mods[0]), "proposal", proposal.id, reason="abuse", text="Bitte bleiben Sie sachlich.")

    hidden = fresh(proposal)
    assert (hidden.state, hidden.body) == ("hidden", "Ein Text, der gegen die Regeln verstößt.")
    assert fresh(consultation).proposal_count == 0
    assert moderation_queue.queue(actor(mods[0])) == []
    assert db.session.scalars(sa.select(Flag.state)).all() == ["decided"]
    notice = moderation_people.author_notice(actor(world.anna), "proposal", proposal.id)
    assert notice.hiding is not None and notice.can_appeal
    assert (notice.hiding.reason_code, notice.hiding.reason_text) == ("abuse", "Bitte bleiben Sie sachlich.")
    with pytest.raises(NotFound):
        moderation_people.author_notice(actor(world.ben), "proposal", proposal.id)
    event = events("participation.contribution_hidden")[0]
    assert event.subject_user_id == world.anna.id
    assert event.actor_id == str(mods[0].id)
    assert json.loads(event.details)["reason"] == "abuse"
    with pytest.raises(ParticipationError) as again:
        moderation.hide(actor(mods[1]), "proposal", proposal.id, reason="abuse")
    assert again.value.code == "already_hidden"
    assert fresh(consultation).proposal_count == 0


def test_the_author_appeals_once_and_another_moderator_restores_the_contribution(world, mods):
    moritz, maja = mods
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    _flag(world, world.ben, proposal)
    moderation.hide(actor(moritz), "proposal", proposal.id, reason="off_topic", text="Gehört nicht hierher.")

    filed = moderation_people.appeal(actor(world.anna), "proposal", proposal.id, text="Es geht um den Altmarkt.")
    with pytest.raises(ParticipationError) as second:
        moderation_people.appeal(actor(world.anna), "proposal", proposal.id, text="Noch einmal.")
    with pytest.raises(ParticipationError) as own:
        moderation_people.decide_appeal(actor(moritz), filed.id, grant=True, note="Doch in Ordnung.")

    assert second.value.code == "already_appealed"
    assert own.value.code == "own_decision"
    assert [item.appeal.id for item in moderation_people.appeals(actor(maja))] == [filed.id]
    moderation_people.decide_appeal(actor(maja), filed.id, grant=True, note="Der Bezug zum Altmarkt ist da.")

    assert fresh(proposal).state == "published"
    assert fresh(consultation).proposal_count == 1
    decided = fresh(filed)
    assert (decided.state, decided.decided_by_id, decided.decision_note) == (
        "granted",
        maja.id,
        "Der Bezug zum Altmarkt ist da.",
    )
    notice = moderation_people.author_notice(actor(world.anna), "proposal", proposal.id)
    assert notice.hiding is None and not notice.can_appeal and notice.appeal.state == "granted"
    history = moderation_queue.get_case(actor(maja), "proposal", proposal.id).history
    assert [(c.cause, c.decision) for c in history] == [("appeal", "restore"), ("flag", "hide")]
    assert [e.subject_user_id for e in events("participation.appeal_filed")] == [world.anna.id]
    assert json.loads(events("participation.appeal_decided")[0].details)["result"] == "granted"
    assert json.loads(events("participation.contribution_restored")[0].details)["cause"] == "appeal"


def test_a_rejected_appeal_leaves_the_contribution_hidden_and_no_second_appeal_follows(world, mods):
    moritz, maja = mods
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    moderation.hide(actor(moritz), "proposal", proposal.id, reason="spam")
    filed = moderation_people.appeal(actor(world.anna), "proposal", proposal.id, text="Das ist kein Spam.")

    moderation_people.decide_appeal(actor(maja), filed.id, grant=False, note="Es bleibt Werbung.")

    assert fresh(proposal).state == "hidden"
    notice = moderation_people.author_notice(actor(world.anna), "proposal", proposal.id)
    assert notice.appeal.state == "rejected" and not notice.can_appeal
    with pytest.raises(ParticipationError) as again:
        moderation_people.decide_appeal(actor(maja), filed.id, grant=True, note="Doch.")
    assert again.value.code == "already_decided"
    assert db.session.scalar(sa.select(sa.func.count(Appeal.id))) == 1


def test_hiding_and_restoring_a_reply_keeps_every_counter_right(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    top = make_comment(world, consultation, world.ben, proposal_id=proposal.id)
    reply = make_comment(world, consultation, world.anna, proposal_id=proposal.id, parent_id=top.id)

    def counts():
        return fresh(top).reply_count, fresh(proposal).comment_count, fresh(consultation).comment_count

    assert counts() == (1, 2, 2)
    moderation.hide(actor(mods[0]), "comment", reply.id, reason="hate", text="Abwertend.")
    assert counts() == (0, 1, 1)
    # The thread keeps the reply's place, without its text.
    thread = comments.list_comments(actor(world.newcomer), consultation.id, proposal_id=proposal.id)
    assert thread.items[0].replies[0].text is None

    moderation.restore(actor(mods[0]), "comment", reply.id, text="Nach Prüfung vertretbar.")
    assert counts() == (1, 2, 2)
    with pytest.raises(ParticipationError) as twice:
        moderation.restore(actor(mods[0]), "comment", reply.id)
    assert twice.value.code == "wrong_state"
    assert counts() == (1, 2, 2)


def test_restoring_answers_an_open_appeal(world, mods):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation, world.anna)
    moderation.hide(actor(mods[0]), "comment", comment.id, reason="abuse")
    filed = moderation_people.appeal(actor(world.anna), "comment", comment.id, text="Das war ironisch gemeint.")

    moderation.restore(actor(mods[1]), "comment", comment.id, text="Als Ironie erkennbar.")

    assert (fresh(filed).state, fresh(filed).decision_note) == ("granted", "Als Ironie erkennbar.")
    assert moderation_people.appeals(actor(mods[1])) == []


def test_dismissing_flags_closes_the_case_and_the_contribution_stays(world, mods):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation, world.anna)
    _flag(world, world.ben, comment, "abuse")

    moderation.dismiss(actor(mods[0]), "comment", comment.id, text="Kritik, aber sachlich.")

    assert fresh(comment).state == "published"
    assert moderation_queue.queue(actor(mods[0])) == []
    event = events("participation.flags_dismissed")[0]
    assert event.subject_user_id is None  # the author need not learn that someone flagged them
    assert json.loads(event.details)["flags"] == 1
    with pytest.raises(ParticipationError) as nothing:
        moderation.dismiss(actor(mods[0]), "comment", comment.id)
    assert nothing.value.code == "no_flags"


def test_premoderated_contributions_wait_in_the_queue_and_count_once_published(world, mods):
    consultation = make_consultation(world, premoderation=True)
    proposal = make_proposal(world, consultation)
    comment = make_comment(world, consultation, world.ben)
    assert (proposal.state, comment.state) == ("pending", "pending")
    assert (fresh(consultation).proposal_count, fresh(consultation).comment_count) == (0, 0)

    entries = moderation_queue.queue(actor(mods[0]))
    assert [(e.case.cause, e.case.contribution_kind) for e in entries] == [
        ("pending", "proposal"),
        ("pending", "comment"),
    ]

    moderation.publish(actor(mods[0]), "proposal", proposal.id)
    moderation.hide(actor(mods[0]), "comment", comment.id, reason="privacy", text="Enthält eine Telefonnummer.")

    assert (fresh(proposal).state, fresh(comment).state) == ("published", "hidden")
    assert (fresh(consultation).proposal_count, fresh(consultation).comment_count) == (1, 0)
    assert moderation_queue.queue(actor(mods[0])) == []
    assert events("participation.contribution_published")[0].subject_user_id == world.anna.id
    assert json.loads(events("participation.contribution_hidden")[0].details)["was"] == "pending"
    with pytest.raises(ParticipationError) as twice:
        moderation.publish(actor(mods[0]), "proposal", proposal.id)
    assert twice.value.code == "not_pending"
    assert fresh(consultation).proposal_count == 1


def test_a_guests_comment_waits_in_the_queue(world, mods):
    consultation = make_consultation(
        world, audience="guests", phases=[("comments", -timedelta(days=1), timedelta(days=5))]
    )
    comment = comments.create_comment(ANONYMOUS, consultation.id, body="Schöne Idee!", guest_name="Gerda")

    entry = moderation_queue.queue(actor(mods[0]))[0]
    assert (entry.case.cause, entry.author_name) == ("pending", "Gerda (Gast)")
    moderation.publish(actor(mods[0]), "comment", comment.id)
    assert fresh(consultation).comment_count == 1


def test_a_blocked_person_is_refused_with_a_clear_message_until_the_block_is_lifted(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    other = make_proposal(world, consultation, world.ben, title="Ein Brunnen für den Altmarkt")

    block = moderation_people.block_author(
        actor(mods[0]), "proposal", proposal.id, days=7, reason="Wiederholt beleidigend."
    )

    refused = rules.refusal(actor(world.anna), consultation, rules.PROPOSE)
    assert refused is not None and refused.code == "blocked"
    assert to_berlin(block.until).strftime("%d.%m.%Y, %H:%M") in str(refused)
    assert "gesperrt" in str(refused)
    with pytest.raises(ActionRefused) as propose:
        make_proposal(world, consultation, title="Noch ein Vorschlag")
    with pytest.raises(ActionRefused) as support:
        supports.support(actor(world.anna), other.id)
    with pytest.raises(ActionRefused) as flagging:
        _flag(world, world.anna, other)
    assert (propose.value.code, propose.value.status) == ("blocked", 403)
    assert (support.value.code, flagging.value.code) == ("blocked", "blocked")
    assert rules.refusal(actor(world.ben), consultation, rules.PROPOSE) is None  # only Anna
    with pytest.raises(ParticipationError) as twice:
        moderation_people.block_author(actor(mods[1]), "proposal", proposal.id, days=3, reason="Noch einmal.")
    assert twice.value.code == "already_blocked"
    event = events("participation.user_blocked")[0]
    assert event.subject_user_id == world.anna.id and json.loads(event.details)["days"] == 7

    moderation_people.lift_block(actor(mods[1]), block.id)

    assert rules.refusal(actor(world.anna), consultation, rules.PROPOSE) is None
    assert events("participation.block_lifted")[0].subject_user_id == world.anna.id
    assert [item.active for item in moderation_people.blocks(actor(mods[0]))] == [False]


def test_blocks_are_for_moderators_and_only_for_days_between_one_and_a_year(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)

    with pytest.raises(Forbidden):
        moderation_people.block_author(actor(world.manager), "proposal", proposal.id, days=7, reason="Zu viel.")
    with pytest.raises(ParticipationError) as too_long:
        moderation_people.block_author(actor(mods[0]), "proposal", proposal.id, days=400, reason="Zu viel.")
    assert too_long.value.field == "days"
    assert rules.refusal(actor(world.anna), consultation, rules.PROPOSE) is None


def test_the_departments_manager_moderates_their_consultation_and_another_departments_manager_cannot(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    _flag(world, world.ben, proposal)

    assert moderation_queue.queue(actor(world.other_manager)) == []
    with pytest.raises(Forbidden):
        moderation_queue.get_case(actor(world.other_manager), "proposal", proposal.id)
    with pytest.raises(Forbidden):
        moderation.hide(actor(world.other_manager), "proposal", proposal.id, reason="spam")
    with pytest.raises(Forbidden):
        moderation.hide(actor(world.ben), "proposal", proposal.id, reason="spam")
    with pytest.raises(Forbidden):
        moderation_queue.queue(actor(world.ben))
    assert fresh(proposal).state == "published"

    assert len(moderation_queue.queue(actor(world.manager))) == 1
    moderation.hide(actor(world.manager), "proposal", proposal.id, reason="spam")
    assert fresh(proposal).state == "hidden"


def test_nobody_decides_about_their_own_contribution(world, mods):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation, mods[0], pseudonym="Moritz")
    _flag(world, world.ben, comment)

    with pytest.raises(ParticipationError) as own:
        moderation.dismiss(actor(mods[0]), "comment", comment.id)

    assert own.value.code == "own_contribution"
    assert moderation_queue.get_case(actor(mods[0]), "comment", comment.id).own


def _backdate(case_id: int, *, opened_hours_ago: float, decided_after: float | None) -> None:
    opened = utcnow() - timedelta(hours=opened_hours_ago)
    values = {"created_at": opened, "deadline_at": opened + 24 * HOUR}
    if decided_after is not None:
        values["decided_at"] = opened + timedelta(hours=decided_after)
    db.session.execute(sa.update(ModerationCase).where(ModerationCase.id == case_id).values(**values))
    db.session.commit()


def test_statistics_give_cases_times_to_decision_overdue_hidden_and_appeals(world, mods):
    consultation = make_consultation(world)
    quiet = make_consultation(world, title="Ruhiges Verfahren")
    rows = [make_comment(world, consultation, world.anna, body=f"Kommentar {n}") for n in range(4)]
    for row in rows:
        _flag(world, world.ben, row)
    _flag(world, world.newcomer, rows[0])
    moderation.hide(actor(mods[0]), "comment", rows[0].id, reason="abuse")  # 2 h
    moderation.hide(actor(mods[0]), "comment", rows[1].id, reason="abuse")  # 10 h
    moderation.dismiss(actor(mods[0]), "comment", rows[2].id)  # 30 h: after its deadline
    moderation_people.appeal(actor(world.anna), "comment", rows[0].id, text="Bitte prüfen.")
    cases = {c.contribution_id: c.id for c in db.session.scalars(sa.select(ModerationCase))}
    _backdate(cases[rows[0].id], opened_hours_ago=40, decided_after=2)
    _backdate(cases[rows[1].id], opened_hours_ago=40, decided_after=10)
    _backdate(cases[rows[2].id], opened_hours_ago=40, decided_after=30)
    _backdate(cases[rows[3].id], opened_hours_ago=30, decided_after=None)  # open, past its deadline

    figures = {f.consultation.id: f for f in moderation_queue.statistics(actor(mods[0]))}

    mine = figures[consultation.id]
    assert (mine.cases, mine.open, mine.flags, mine.hidden) == (4, 1, 5, 2)
    assert (mine.median_hours, mine.mean_hours, mine.overdue) == (10.0, 14.0, 2)
    assert mine.decisions == {"hide": 2, "dismiss": 1}
    assert (mine.appeals, mine.appeals_granted, mine.appeals_open) == (1, 0, 1)
    assert (figures[quiet.id].cases, figures[quiet.id].median_hours) == (0, None)
    assert [f.consultation.id for f in moderation_queue.statistics(actor(world.other_manager))] == []
    overdue = moderation_queue.queue(actor(mods[0]))
    assert [(e.contribution.id, e.overdue) for e in overdue] == [(rows[3].id, True)]


def test_a_case_page_gathers_the_contribution_its_flags_its_history_and_the_authors_block(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    comment = make_comment(world, consultation, world.anna, proposal_id=proposal.id)
    _flag(world, world.ben, comment, "privacy", "Nennt die Adresse eines Nachbarn.")
    moderation_people.block_author(actor(mods[0]), "comment", comment.id, days=3, reason="Adressen veröffentlicht.")

    view = moderation_queue.get_case(actor(mods[1]), "comment", comment.id)

    assert (view.author_name, view.proposal.id, view.open_case.cause) == ("Anna Aktiv", proposal.id, "flag")
    assert [(f.reason_code, f.reason_text) for f in view.flags] == [("privacy", "Nennt die Adresse eines Nachbarn.")]
    assert view.author_block is not None and view.can_hide and view.can_dismiss and not view.can_publish
    assert not view.own


def test_a_pending_contribution_without_an_account_cannot_be_blocked(world, mods):
    consultation = make_consultation(
        world, audience="guests", phases=[("comments", -timedelta(days=1), timedelta(days=5))]
    )
    comment = comments.create_comment(ANONYMOUS, consultation.id, body="Hallo", guest_name="Gast")

    with pytest.raises(ParticipationError) as nobody:
        moderation_people.block_author(actor(mods[0]), "comment", comment.id, days=3, reason="Spam.")
    assert nobody.value.code == "no_account"
    assert db.session.get(Comment, comment.id).state == "pending"


def test_the_database_keeps_one_open_case_per_contribution(world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    _flag(world, world.ben, proposal)
    now = utcnow()

    db.session.add(
        ModerationCase(
            consultation_id=consultation.id,
            contribution_kind="proposal",
            contribution_id=proposal.id,
            cause="flag",
            created_at=now,
            deadline_at=now + HOUR,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    moderation.dismiss(actor(mods[0]), "proposal", proposal.id)
    _flag(world, world.newcomer, proposal)  # a new flag after the decision opens a new case
    assert [c.state for c in db.session.scalars(sa.select(ModerationCase).order_by(ModerationCase.id))] == [
        "decided",
        "open",
    ]
