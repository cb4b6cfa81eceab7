"""Official answers and implementation status: who may answer and when, progress only after acceptance, the
history in order and signed by the department, and the author reading the answer in their Protokoll."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import Forbidden

from participation.errors import ParticipationError
from participation.services import answers, consultations, supports
from portal.audit.queries import details_of
from tests.participation.builders import World, actor, events, fresh, make_consultation, make_proposal
from tests.portal.admin.conftest import sign_in


def _answer(world: World, proposal, status: str = "accepted", text: str = "Wir pflanzen im Herbst.", user=None):
    return answers.answer(actor(user or world.manager), proposal.id, status, text)


def test_a_manager_answers_and_the_proposal_carries_the_latest_answer(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)

    _answer(world, proposal, "under_review", "Wir prüfen das mit dem Grünflächenamt.")
    _answer(world, proposal, "accepted", "Wir pflanzen im Herbst zwölf Linden.")

    stored = fresh(proposal)
    assert stored.answer_status == "accepted" and stored.answered_at is not None
    assert [(e.status, e.text) for e in answers.history(proposal.id)] == [
        ("under_review", "Wir prüfen das mit dem Grünflächenamt."),
        ("accepted", "Wir pflanzen im Herbst zwölf Linden."),
    ]


def test_a_platform_admin_may_answer_too(world):
    proposal = make_proposal(world, make_consultation(world))

    _answer(world, proposal, user=world.admin)

    assert fresh(proposal).answer_status == "accepted"


@pytest.mark.parametrize("who", ["other_manager", "ben", "anna"])
def test_nobody_else_may_answer_not_even_the_author(world, who):
    proposal = make_proposal(world, make_consultation(world))

    with pytest.raises(Forbidden):
        _answer(world, proposal, user=getattr(world, who))

    assert fresh(proposal).answer_status is None and answers.history(proposal.id) == []


def test_answers_are_possible_while_published_or_closed_but_not_once_archived(world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    manager = actor(world.manager)

    consultations.close(manager, consultation.id)
    _answer(world, proposal, "rejected", "Dafür fehlt der Platz.")
    consultations.archive(manager, consultation.id)

    with pytest.raises(ParticipationError) as refused:
        _answer(world, proposal, "accepted", "Doch.")
    assert refused.value.code == "not_answerable"
    assert fresh(proposal).answer_status == "rejected"


def test_a_pending_proposal_is_not_answered(world):
    consultation = make_consultation(world, premoderation=True)
    proposal = make_proposal(world, consultation)
    assert proposal.state == "pending"

    with pytest.raises(ParticipationError) as refused:
        _answer(world, proposal)
    assert refused.value.code == "not_published"


@pytest.mark.parametrize(
    ("status", "text", "field", "code"),
    [("vielleicht", "Text", "status", "bad_status"), ("accepted", "   ", "text", "required")],
)
def test_an_answer_needs_a_known_status_and_a_text(world, status, text, field, code):
    proposal = make_proposal(world, make_consultation(world))

    with pytest.raises(ParticipationError) as refused:
        _answer(world, proposal, status, text)

    assert (refused.value.field, refused.value.code) == (field, code)


def test_progress_notes_only_follow_an_accepted_answer(world):
    proposal = make_proposal(world, make_consultation(world))
    manager = actor(world.manager)

    with pytest.raises(ParticipationError) as unanswered:
        answers.add_progress(manager, proposal.id, "planned", "Kommt bald.")
    _answer(world, proposal, "under_review", "Wir prüfen.")
    with pytest.raises(ParticipationError) as under_review:
        answers.add_progress(manager, proposal.id, "planned", "Kommt bald.")
    assert unanswered.value.code == under_review.value.code == "not_accepted"

    _answer(world, proposal, "accepted", "Wird gemacht.")
    answers.add_progress(manager, proposal.id, "in_progress", "Die Bäume sind bestellt.")
    assert fresh(proposal).implementation_status == "in_progress"

    with pytest.raises(ParticipationError) as wrong_kind:
        answers.add_progress(manager, proposal.id, "accepted", "Ein Antwortstand ist kein Umsetzungsstand.")
    assert wrong_kind.value.code == "bad_status"


def test_a_later_rejection_ends_the_implementation_status_but_keeps_the_notes(world):
    proposal = make_proposal(world, make_consultation(world))
    _answer(world, proposal, "accepted", "Wird gemacht.")
    answers.add_progress(actor(world.manager), proposal.id, "planned", "Im Haushalt 2027.")

    _answer(world, proposal, "rejected", "Der Haushalt wurde gekürzt.")

    assert fresh(proposal).implementation_status is None
    assert [e.kind for e in answers.history(proposal.id)] == ["answer", "implementation", "answer"]
    with pytest.raises(ParticipationError):
        answers.add_progress(actor(world.manager), proposal.id, "in_progress", "Doch weiter.")


def test_the_history_is_signed_by_the_department_never_by_the_person(world):
    proposal = make_proposal(world, make_consultation(world))
    _answer(world, proposal, "accepted", "Wird gemacht.")
    answers.add_progress(actor(world.manager), proposal.id, "done", "Gepflanzt.")

    entries = answers.history(proposal.id)

    assert [(e.kind, e.label, e.department) for e in entries] == [
        ("answer", "Angenommen", "Stadtplanungsamt"),
        ("implementation", "Umgesetzt", "Stadtplanungsamt"),
    ]
    assert entries[0].created_at <= entries[1].created_at


def test_the_author_reads_the_answer_in_their_protokoll_and_others_do_not(world, client):
    proposal = make_proposal(world, make_consultation(world))
    _answer(world, proposal, "accepted", "Wird gemacht.")
    answers.add_progress(actor(world.manager), proposal.id, "planned", "Im Haushalt 2027.")

    [answered] = events("participation.answered")
    assert answered.subject_user_id == world.anna.id
    assert details_of(answered) == {
        "consultation": proposal.consultation.slug,
        "proposal": proposal.reference,
        "status": "accepted",
        "department_id": world.planning.id,
    }
    sign_in(client, world.anna)
    html = client.get("/konto/protokoll").get_data(as_text=True)
    assert "Die Verwaltung hat Ihren Vorschlag offiziell beantwortet" in html
    assert "Die Verwaltung hat den Umsetzungsstand Ihres Vorschlags aktualisiert" in html
    assert "Stadtplanungsamt" in html

    sign_in(client, world.ben)  # the session now belongs to Ben
    assert "offiziell beantwortet" not in client.get("/konto/protokoll").get_data(as_text=True)


def test_awaiting_answer_lists_proposals_over_the_threshold_and_everything_once_closed(world):
    consultation = make_consultation(world, support_threshold=1)
    popular = make_proposal(world, consultation, title="Trinkbrunnen am Markt")
    quiet = make_proposal(world, consultation, title="Mehr Bänke", user=world.ben)
    answered = make_proposal(world, consultation, title="Fahrradbügel")
    supports.support(actor(world.ben), popular.id)
    supports.support(actor(world.ben), answered.id)
    _answer(world, answered, "accepted", "Kommen im Frühjahr.")
    manager = actor(world.manager)

    assert [p.title for p in answers.awaiting_answer(manager, consultation.id)] == ["Trinkbrunnen am Markt"]

    consultations.close(manager, consultation.id)
    assert [p.title for p in answers.awaiting_answer(manager, consultation.id)] == [
        "Trinkbrunnen am Markt",
        "Mehr Bänke",
    ]
    assert quiet.id in {p.id for p in answers.awaiting_answer(actor(world.admin), consultation.id)}
    with pytest.raises(Forbidden):
        answers.awaiting_answer(actor(world.other_manager), consultation.id)
