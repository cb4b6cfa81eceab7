"""`flask demo load` for participation: an open consultation with proposals, threaded comments, a flagged comment
and a survey, an upcoming one with a draft statute, a closed one with official answers; idempotent; counters
that match the rows; amtsadmin@ manages them and moderation@ finds the flag."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from participation.models import Comment, Consultation, ContributionState, Proposal, Pseudonym, Support
from participation.models_moderation import Flag, ModerationCase
from participation.models_results import ProposalUpdate
from participation.models_surveys import DraftParagraph, SurveyQuestion, SurveyResponse
from participation.services import consultations, moderation_queue
from portal.accounts.models import User
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.portal.audit.helpers import sign_in

TABLES = (
    User,
    Consultation,
    Proposal,
    Support,
    Comment,
    Pseudonym,
    Flag,
    ModerationCase,
    SurveyQuestion,
    SurveyResponse,
    DraftParagraph,
    ProposalUpdate,
    AuditEvent,
)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ["participation"]}


def _load(runner) -> str:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output, result.output
    return result.output


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in TABLES}


def _user(local_part: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == f"{local_part}@demo.stadtportal.example"))
    assert user is not None
    return user


def _consultation(title: str) -> Consultation:
    found = db.session.scalar(sa.select(Consultation).where(Consultation.title == title))
    assert found is not None
    return found


def _text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_loading_the_demo_twice_creates_the_participation_demo_once_and_says_so(runner):
    first = _load(runner)
    after_first = _counts()
    second = _load(runner)

    assert _counts() == after_first
    assert "consultations: 3 created, 0 already present" in first
    assert "proposals: 12 created, 0 already present" in first
    assert "demo citizens: 3 created, 0 already present" in first
    assert "consultations: 0 created, 3 already present" in second
    assert "participation: nothing changed" in second
    assert after_first["participation_flag"] == 1 and after_first["participation_survey_response"] == 4


def test_the_open_consultation_lists_its_proposals_and_offers_the_survey(runner, client):
    _load(runner)
    market = _consultation("Neugestaltung des Marktplatzes")

    listing = _text(client.get("/beteiligung/"))
    page = _text(client.get(f"/beteiligung/{market.slug}"))

    assert "Neugestaltung des Marktplatzes" in listing
    assert "8 veröffentlichte Vorschläge" in page
    for title in ("Schattenspendende Bäume am Rand des Platzes", "Lieferverkehr nur bis 10 Uhr"):
        assert title in page
    assert "Aktuelle Phase: Ideen sammeln und Umfrage" in page
    assert "Zur Umfrage" in page
    assert "Marktfreundin" in page and "Erika Mustermann" not in page
    questions = db.session.scalars(
        sa.select(SurveyQuestion.kind).where(SurveyQuestion.consultation_id == market.id)
    ).all()
    assert sorted(questions) == ["multiple", "scale", "single"]


def test_the_demo_comments_are_threaded_two_replies_deep_with_stances(runner, client):
    _load(runner)
    market = _consultation("Neugestaltung des Marktplatzes")
    rows = db.session.scalars(sa.select(Comment).where(Comment.consultation_id == market.id)).all()

    assert max(c.depth for c in rows) == 2
    assert {c.stance for c in rows} == {"pro", "neutral", "contra"}
    trees = db.session.scalars(sa.select(Proposal).where(Proposal.title.like("Barrierefreie Wege%"))).one()
    page = _text(client.get(f"/beteiligung/{market.slug}/vorschlaege/{trees.reference}"))
    assert "Gesägtes Pflaster wäre ein Kompromiss" in page and "gehört zum Stadtbild" in page


def test_every_counter_of_the_demo_matches_its_rows(runner):
    _load(runner)
    published = ContributionState.PUBLISHED.value

    def count(model, *where) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0

    for consultation in db.session.scalars(sa.select(Consultation)):
        proposals = (Proposal.consultation_id == consultation.id, Proposal.state == published)
        assert consultation.proposal_count == count(Proposal, *proposals), consultation.title
        assert consultation.comment_count == count(
            Comment, Comment.consultation_id == consultation.id, Comment.state == published
        )
        assert consultation.support_count == count(
            Support, Support.proposal_id.in_(sa.select(Proposal.id).where(Proposal.consultation_id == consultation.id))
        )
    for proposal in db.session.scalars(sa.select(Proposal)):
        assert proposal.support_count == count(Support, Support.proposal_id == proposal.id), proposal.title
        assert proposal.comment_count == count(Comment, Comment.proposal_id == proposal.id, Comment.state == published)
    for comment in db.session.scalars(sa.select(Comment)):
        assert comment.reply_count == count(Comment, Comment.parent_id == comment.id, Comment.state == published)
    market = _consultation("Neugestaltung des Marktplatzes")
    assert (market.proposal_count, market.support_count) == (8, 15)


def test_the_upcoming_and_the_closed_consultation_are_on_their_lists(runner, client):
    _load(runner)
    school = _consultation("Sichere Schulwege in der Neustadt")
    statute = _consultation("Gestaltungssatzung für die Altstadt")

    upcoming = _text(client.get("/beteiligung/?liste=demnaechst"))
    closed = _text(client.get("/beteiligung/?liste=abgeschlossen"))

    assert "Gestaltungssatzung für die Altstadt" in upcoming and "Neugestaltung" not in upcoming
    assert "Sichere Schulwege in der Neustadt" in closed
    assert statute.state == "published" and school.state == "closed"
    assert db.session.scalar(sa.select(sa.func.count()).where(DraftParagraph.consultation_id == statute.id)) == 5


def test_the_closed_consultations_proposals_carry_official_answers_and_progress(runner, client):
    _load(runner)
    school = _consultation("Sichere Schulwege in der Neustadt")
    answered = {
        p.title: (p.answer_status, p.implementation_status)
        for p in db.session.scalars(sa.select(Proposal).where(Proposal.consultation_id == school.id))
    }

    assert sorted(answered.values(), key=str) == sorted(
        [("accepted", "in_progress"), ("under_review", None), ("rejected", None), ("accepted", "done")], key=str
    )
    zebra = db.session.scalars(sa.select(Proposal).where(Proposal.title.like("Zebrastreifen%"))).one()
    page = _text(client.get(f"/beteiligung/{school.slug}/vorschlaege/{zebra.reference}"))
    assert "Angenommen" in page and "In Umsetzung" in page and "Verkehrs- und Tiefbauamt" in page


def test_amtsadmin_manages_the_demo_consultations_and_moderation_sees_the_flag(runner, client):
    _load(runner)
    manager = Actor.for_user(_user("amtsadmin"))

    managed = {c.title for c in consultations.managed_consultations(manager)}
    queue = moderation_queue.queue(Actor.for_user(_user("moderation")))

    assert managed == {
        "Neugestaltung des Marktplatzes",
        "Gestaltungssatzung für die Altstadt",
        "Sichere Schulwege in der Neustadt",
    }
    assert len(queue) == 1 and queue[0].case.cause == "flag"
    sign_in(client, _user("amtsadmin"))
    assert "Neugestaltung des Marktplatzes" in _text(client.get("/admin/beteiligung/"))
