"""Support: one per person and proposal, also under concurrent double clicks; counters kept; the threshold marks
a proposal for an official answer."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from participation.errors import ActionRefused, ParticipationError
from participation.models import Support
from participation.services import supports
from portal.accounts.models import User
from portal.actors import ANONYMOUS, Actor
from portal.extensions import db
from tests.participation.builders import actor, events, fresh, make_consultation, make_proposal

CLICKS = 6


@pytest.fixture
def app_config(app_config):
    # The clicking threads each hold a connection; SQLite writers queue on the database lock meanwhile.
    options = {"pool_size": 10, "max_overflow": 5, "pool_timeout": 60}
    if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = {"connect_args": {"timeout": 60}}
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": options}


def test_supporting_and_withdrawing_keep_both_counters_and_are_audited(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)

    first = supports.support(actor(world.ben), proposal.id)
    second = supports.support(actor(world.newcomer), proposal.id)
    withdrawn = supports.withdraw(actor(world.ben), proposal.id)

    assert (first.support_count, second.support_count, withdrawn.support_count) == (1, 2, 1)
    assert (fresh(proposal).support_count, fresh(consultation).support_count) == (1, 1)
    assert supports.supports_of(actor(world.newcomer), [proposal.id]) == {proposal.id}
    assert supports.supports_of(actor(world.ben), [proposal.id]) == set()
    supported = events("participation.supported")
    assert [e.subject_user_id for e in supported] == [world.ben.id, world.newcomer.id]
    assert json.loads(supported[1].details) == {
        "consultation": consultation.slug,
        "proposal": proposal.reference,
        "support_count": 2,
    }
    assert json.loads(events("participation.support_withdrawn")[0].details)["support_count"] == 1


def test_a_second_support_and_a_withdrawal_without_support_are_refused(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    supports.support(actor(world.ben), proposal.id)

    with pytest.raises(ParticipationError) as again:
        supports.support(actor(world.ben), proposal.id)
    with pytest.raises(ParticipationError) as none:
        supports.withdraw(actor(world.newcomer), proposal.id)

    assert (again.value.code, again.value.status, str(again.value.message)) == (
        "already_supported",
        409,
        "Sie unterstützen diesen Vorschlag schon.",
    )
    assert none.value.code == "not_supported"
    assert fresh(proposal).support_count == 1
    assert len(events("participation.supported")) == 1


def test_a_click_that_loses_the_race_after_checking_meets_the_unique_key(world, monkeypatch):
    """The other click committed between our check and our insert: the UNIQUE key refuses the second row, the
    whole transaction rolls back, and the person hears "already supported", not an error."""
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    supports.support(actor(world.ben), proposal.id)
    monkeypatch.setattr(supports, "_has_supported", lambda proposal_id, user_id: False)

    with pytest.raises(ParticipationError) as refused:
        supports.support(actor(world.ben), proposal.id)

    assert refused.value.code == "already_supported"
    assert (fresh(proposal).support_count, fresh(consultation).support_count) == (1, 1)
    assert db.session.scalar(sa.select(sa.func.count(Support.id))) == 1
    assert len(events("participation.supported")) == 1


def test_concurrent_double_clicks_support_once(app, world):
    consultation = make_consultation(world)
    proposal_id, consultation_id, user_id = make_proposal(world, consultation).id, consultation.id, world.ben.id
    barrier = threading.Barrier(CLICKS)
    outcomes: list[str] = []

    def click() -> None:
        with app.app_context():
            try:
                person = Actor.for_user(db.session.get(User, user_id))
                barrier.wait()
                supports.support(person, proposal_id)
                outcomes.append("supported")
            except ParticipationError as error:
                outcomes.append(error.code)
            except Exception as error:  # reported by the assertion below
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    db.session.remove()  # the test's own connection must hold no lock while the clicks race
    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads), "a click hung"
    assert sorted(outcomes) == ["already_supported"] * (CLICKS - 1) + ["supported"], outcomes
    from participation.models import Consultation, Proposal

    assert db.session.get(Proposal, proposal_id).support_count == 1
    assert db.session.get(Consultation, consultation_id).support_count == 1
    assert db.session.scalar(sa.select(sa.func.count(Support.id))) == 1
    assert len(events("participation.supported")) == 1


def test_reaching_the_threshold_marks_the_proposal_for_an_answer_once(world):
    consultation = make_consultation(world, support_threshold=2)
    proposal = make_proposal(world, consultation)

    first = supports.support(actor(world.anna), proposal.id)
    second = supports.support(actor(world.ben), proposal.id)
    marked_at = fresh(proposal).answer_requested_at
    supports.withdraw(actor(world.ben), proposal.id)
    third = supports.support(actor(world.ben), proposal.id)

    assert (first.answer_requested, second.answer_requested, third.answer_requested) == (False, True, False)
    assert marked_at is not None and fresh(proposal).answer_requested_at == marked_at
    requested = events("participation.answer_requested")
    assert len(requested) == 1
    assert json.loads(requested[0].details)["threshold"] == 2


def test_without_a_threshold_no_proposal_is_marked(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)

    result = supports.support(actor(world.ben), proposal.id)

    assert result.answer_requested is False
    assert fresh(proposal).answer_requested_at is None


def test_supporting_needs_an_account_and_a_published_proposal(world):
    consultation = make_consultation(world, premoderation=True)
    pending = make_proposal(world, consultation)

    with pytest.raises(ActionRefused) as anonymous:
        supports.support(ANONYMOUS, pending.id)
    with pytest.raises(ParticipationError) as not_public:
        supports.support(actor(world.ben), pending.id)

    assert anonymous.value.code == "sign_in_required"
    assert not_public.value.code == "not_published"
    assert fresh(pending).support_count == 0
