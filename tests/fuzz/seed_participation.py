"""Participation rows the demo data lacks, so the form crawl reaches the managers', moderators' and authors'
buttons acting on them (issue 11: shrink UNREACHED): a consultation still in draft (its phases and survey
questions can be removed and moved), one whose draft text is open for comments today, hidden, appealed and
pending contributions, a block and a read grant. Each is made through the participation services, by the demo
person who would do it, and audited."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from participation.models import Comment, Consultation, PhaseKind
from participation.models_moderation import ContributionKind
from participation.models_surveys import QuestionKind
from participation.rules import COMMENT, COMMENT_DRAFT
from participation.services import comments, consultations, drafts, moderation, moderation_people, readers, surveys
from participation.services import phases as phase_service
from participation.services.consultations import ConsultationDraft
from participation.services.surveys import QuestionDraft
from portal.accounts.models import User
from portal.actors import Actor
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow

COMMENT_KIND = ContributionKind.COMMENT.value


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _day(offset: int) -> datetime:
    """Midnight in Berlin `offset` days from today, in UTC: a phase from _day(-1) is open whenever the tests run."""
    today = utcnow().astimezone(BERLIN).date()
    return datetime.combine(today + timedelta(days=offset), time(0), tzinfo=BERLIN).astimezone(UTC)


def participation_rows(demo_domain: str) -> None:
    """Call inside an app context, after the demo data is loaded."""
    with current_app.test_request_context("/"):  # the reader's mail links to the figures with url_for
        _participation_rows(demo_domain)


def _participation_rows(demo_domain: str) -> None:
    people = {local: _user(f"{local}@{demo_domain}") for local in ("amtsadmin", "admin", "moderation", "buerger")}
    people.update({local: _user(f"{local}@{demo_domain}") for local in ("buerger2", "buerger3", "buerger4")})
    traffic, office = get_department_by_slug("verkehr-tiefbau"), get_department_by_slug("hauptamt")
    if None in people.values() or traffic is None or office is None:
        return
    actors = {local: Actor.for_user(user) for local, user in people.items() if user is not None}
    _draft_consultation(actors["amtsadmin"], traffic.id, reader=actors["buerger4"])
    _commentable_draft(actors["admin"], office.id, author=actors["buerger3"])
    _moderated(actors, traffic.id)


def _draft_consultation(manager: Actor, department_id: int, reader: Actor) -> None:
    """Phases and survey questions are removed and moved only before publication (phase_remove, question_edit,
    question_move, question_remove); a read grant may be revoked in any state but archived (readers.revoke)."""
    consultation = consultations.create_consultation(
        manager, department_id, ConsultationDraft(title="Fuzz: Radweg am Fluss (Entwurf)", summary="In Vorbereitung")
    )
    phase_service.add_phase(
        manager,
        consultation.id,
        kind=PhaseKind.SURVEY,
        title="Umfrage",
        starts_at=_day(30),
        ends_at=_day(60),
    )
    for text in ("Wie oft fahren Sie am Fluss Rad?", "Was fehlt dort?"):
        surveys.add_question(manager, consultation.id, QuestionDraft(kind=QuestionKind.TEXT, text=text))
    assert reader.user is not None
    readers.grant(manager, consultation.id, reader.user.email)


def _commentable_draft(admin: Actor, department_id: int, author: Actor) -> None:
    """The demo's draft text opens for comments in two weeks; this one is open today (draft.comment). It is
    pre-moderated and run by a department the demo's consultation manager does not manage, so its pending comment
    (moderation.publish) is in the moderators' and the platform admin's queue but not in the manager's. The crawl
    opens two case pages per person, the queue's oldest first; the manager's queue holds only the demo's flagged
    comment, which leaves a case page for the appealed contribution (moderation.restore, linked from its appeal)."""
    consultation = consultations.create_consultation(
        admin,
        department_id,
        ConsultationDraft(title="Fuzz: Satzung über Sondernutzungen", summary="Kommentieren Sie", premoderation=True),
    )
    phase_service.add_phase(
        admin,
        consultation.id,
        kind=PhaseKind.DRAFT,
        title="Entwurf kommentieren",
        starts_at=_day(-1),
        ends_at=_day(30),
        actions=[COMMENT_DRAFT, COMMENT],
    )
    drafts.save_draft(admin, consultation.id, "§ 1 Geltung\nDie Satzung gilt im ganzen Stadtgebiet.")
    consultations.publish(admin, consultation.id)
    comments.create_comment(author, consultation.id, body="Gilt das auch für Vorgärten?")


def _moderated(actors: dict[str, Actor], department_id: int) -> None:
    """In the demo's open consultation: the demo citizen's hidden comment (reports.notice shows the appeal form to
    its author), another citizen's hidden and appealed one (moderation_admin.appeal, and moderation.restore on its
    case page), and that citizen blocked (moderation_admin.lift). Not the demo citizen: blocked, the crawl would
    lose the forms they take part with."""
    from participation.demo_content import MARKET

    market = db.session.scalar(
        sa.select(Consultation).where(Consultation.department_id == department_id, Consultation.title == MARKET)
    )
    if market is None:
        return
    moderator = actors["moderation"]

    def hidden(author: Actor, body: str) -> Comment:
        comment = comments.create_comment(author, market.id, body=body)
        moderation.hide(moderator, COMMENT_KIND, comment.id, reason="off_topic", text="Gehört nicht hierher.")
        return comment

    hidden(actors["buerger"], "Wann fährt eigentlich der nächste Bus?")
    appealed = hidden(actors["buerger2"], "Der Bürgermeister soll zurücktreten!")
    moderation_people.appeal(actors["buerger2"], COMMENT_KIND, appealed.id, text="Das gehört zum Platz dazu.")
    moderation_people.block_author(moderator, COMMENT_KIND, appealed.id, days=7, reason="Wiederholt themenfremd.")


def answered_proposal() -> dict[str | None, list[str]]:
    """participation_answers.progress is shown on the answer page of an accepted proposal; the answers list shows
    the open ones first, and its filter's first choice is not "accepted". The demo's closed consultation has
    accepted proposals: the crawl starts the platform admin (who manages every consultation) at one of them."""
    from flask import url_for

    from participation.models import Proposal
    from participation.models_results import AnswerStatus

    proposal = db.session.scalar(
        sa.select(Proposal).where(Proposal.answer_status == AnswerStatus.ACCEPTED.value).order_by(Proposal.id).limit(1)
    )
    if proposal is None:
        return {}
    with current_app.test_request_context("/"):
        page = url_for(
            "participation_answers.proposal", consultation_id=proposal.consultation_id, reference=proposal.reference
        )
    return {"admin": [page]}
