"""Data minimisation: some time after closing, a consultation's contributions are detached from the accounts
that wrote them; the authors appear as "Ehemalige Teilnehmende", the figures stay as they were."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from participation.models import Comment, Consultation, Proposal, Support
from participation.models_moderation import Appeal, Flag
from participation.models_surveys import SurveyResponse
from participation.services import consultations, moderation, moderation_people, supports
from participation.services.detach import detach_authors
from portal.audit.queries import details_of
from portal.extensions import db
from portal.jobs import declared_jobs
from portal.timeutil import utcnow
from tests.participation.builders import (
    World,
    actor,
    events,
    fresh,
    make_comment,
    make_consultation,
    make_proposal,
)

DAY = timedelta(days=1)
MINE = "/konto/beteiligung"


def _closed(world: World, days_ago: int, title: str = "Neugestaltung des Altmarkts") -> Consultation:
    """A consultation with a proposal by Anna (supported by Ben), comments, a flag, an appeal and a survey
    response, closed `days_ago` days ago."""
    consultation = make_consultation(world, title=title)
    proposal = make_proposal(world, consultation)
    supports.support(actor(world.ben), proposal.id)
    comment = make_comment(world, consultation, proposal_id=proposal.id, body="Unbedingt!")
    make_comment(world, consultation, world.ben, parent_id=comment.id, body="Sehe ich auch so.")
    moderation.flag(actor(world.ben), "comment", comment.id, reason="spam")
    moderation.hide(actor(world.manager), "comment", comment.id, reason="spam")
    moderation_people.appeal(actor(world.anna), "comment", comment.id, text="Das war keine Werbung.")
    db.session.add(SurveyResponse(consultation_id=consultation.id, user_id=world.ben.id))
    db.session.commit()
    consultations.close(actor(world.manager), consultation.id)
    db.session.execute(
        sa.update(Consultation).where(Consultation.id == consultation.id).values(closed_at=utcnow() - days_ago * DAY)
    )
    db.session.commit()
    return fresh(consultation)


def _links(consultation: Consultation) -> dict[str, list]:
    """Every link from the consultation's rows to an account."""

    def ids(column, *where) -> list:
        return sorted(v for v in db.session.scalars(sa.select(column).where(*where)) if v is not None)

    proposals = sa.select(Proposal.id).where(Proposal.consultation_id == consultation.id)
    return {
        "proposals": ids(Proposal.author_id, Proposal.consultation_id == consultation.id),
        "comments": ids(Comment.author_id, Comment.consultation_id == consultation.id),
        "supports": ids(Support.user_id, Support.proposal_id.in_(proposals)),
        "flags": ids(Flag.reporter_id, Flag.consultation_id == consultation.id),
        "appeals": ids(Appeal.author_id, Appeal.consultation_id == consultation.id),
        "surveys": ids(SurveyResponse.user_id, SurveyResponse.consultation_id == consultation.id),
    }


def test_contributions_of_a_consultation_closed_longer_ago_than_the_period_are_detached(world, client):
    consultation = _closed(world, days_ago=366)
    proposal = db.session.scalar(sa.select(Proposal).where(Proposal.consultation_id == consultation.id))
    before = (proposal.support_count, consultation.support_count, consultation.comment_count)
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    assert "Anna Aktiv" in client.get(url).get_data(as_text=True)

    report = detach_authors()

    assert report.consultations == [consultation.slug]
    assert _links(consultation) == {k: [] for k in _links(consultation)}
    detached, proposal = fresh(consultation), fresh(proposal)
    assert detached.authors_detached_at is not None
    assert (proposal.support_count, detached.support_count, detached.comment_count) == before
    html = client.get(url).get_data(as_text=True)
    assert "Anna Aktiv" not in html and "Ben Beteiligt" not in html
    assert "Ehemalige Teilnehmende" in html
    assert "1 Person unterstützt diesen Vorschlag." in html
    [event] = events("participation.authors_detached")
    assert details_of(event) == {
        "slug": consultation.slug,
        "days": 365,
        "proposals": 1,
        "comments": 2,
        "supports": 1,
        "survey_responses": 1,
        "flags": 1,
        "appeals": 1,
        "images": 0,
    }


def test_nothing_is_detached_before_the_period_ends_nor_while_a_consultation_runs(world):
    recent = _closed(world, days_ago=364, title="Spielplatz Nord")
    running = make_consultation(world, title="Radweg an der Elbe")
    make_proposal(world, running, title="Mehr Abstellplätze")

    assert detach_authors().consultations == []

    assert fresh(recent).authors_detached_at is None
    assert _links(recent)["proposals"] == [world.anna.id]
    assert _links(running)["proposals"] == [world.anna.id]
    assert events("participation.authors_detached") == []


def test_the_period_is_a_setting(app, world):
    consultation = _closed(world, days_ago=40)
    app.config["PARTICIPATION_DETACH_AFTER_DAYS"] = 30

    assert detach_authors().consultations == [consultation.slug]
    assert details_of(events("participation.authors_detached")[0])["days"] == 30


def test_a_second_run_finds_nothing_more_to_do(world):
    _closed(world, days_ago=400)
    detach_authors()

    assert detach_authors().consultations == []
    assert len(events("participation.authors_detached")) == 1


def test_detaching_runs_daily_as_a_job_and_as_a_command(app, world, runner):
    consultation = _closed(world, days_ago=366)
    job = declared_jobs(app)["participation.detach_authors"]
    assert job.every == DAY

    result = runner.invoke(args=["participation", "detach-authors"])

    assert result.exit_code == 0, result.output
    assert f"1 consultation(s) detached ({consultation.slug})" in result.output
    assert fresh(consultation).authors_detached_at is not None


def test_a_detached_author_no_longer_finds_their_contributions_under_their_account(world, client):
    from tests.portal.admin.conftest import sign_in

    consultation = _closed(world, days_ago=366)
    sign_in(client, world.anna)
    assert "Mehr Bäume am Altmarkt" in client.get(MINE).get_data(as_text=True)

    detach_authors()

    assert "Mehr Bäume am Altmarkt" not in client.get(MINE).get_data(as_text=True)
    assert fresh(consultation).proposal_count == 1
