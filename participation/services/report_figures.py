"""The figures of a consultation's council report (participation.services.report), each read in a fixed number of
queries whatever the consultation's size.

Participation counts published contributions only, as the consultation's counters do; hidden and pending ones
appear in the moderation figures (participation.services.moderation_queue) instead. Survey results are
participation.services.survey_results', under its rule that they show once the survey is over (its managers see
them earlier).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from participation.errors import ParticipationError
from participation.models import Comment, Consultation, ConsultationState, ContributionState, Proposal, Support
from participation.models_results import ProposalUpdate, UpdateKind
from participation.models_surveys import SurveyQuestion
from participation.services import moderation_queue, survey_results
from participation.services.moderation_queue import ModerationStats
from participation.services.survey_results import SurveyResults
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import to_berlin

TOP = 10
MAX_WEEKS_FILLED = 104  # a longer span lists only the weeks with contributions, not two years of zeros
PUBLISHED = ContributionState.PUBLISHED.value


@dataclass(frozen=True)
class Week:
    monday: date  # Berlin calendar week (ISO: Monday to Sunday)
    proposals: int = 0
    comments: int = 0
    supports: int = 0


@dataclass(frozen=True)
class Answer:
    reference: str
    title: str
    status: str
    text: str
    answered_at: datetime
    implementation_status: str | None


def _monday(moment: datetime) -> date:
    day = to_berlin(moment).date()
    return day - timedelta(days=day.weekday())


def weekly(consultation_id: int) -> list[Week]:
    """Published proposals and comments and supports of published proposals, per Berlin calendar week, from the
    first week with a contribution to the last (gaps included as weeks of zeros)."""
    counters: dict[str, Counter[date]] = {}
    queries = {
        "proposals": sa.select(Proposal.created_at).where(
            Proposal.consultation_id == consultation_id, Proposal.state == PUBLISHED
        ),
        "comments": sa.select(Comment.created_at).where(
            Comment.consultation_id == consultation_id, Comment.state == PUBLISHED
        ),
        "supports": sa.select(Support.created_at)
        .join(Proposal, Proposal.id == Support.proposal_id)
        .where(Proposal.consultation_id == consultation_id, Proposal.state == PUBLISHED),
    }
    for name, query in queries.items():
        # Week boundaries are Berlin's, which SQL cannot compute alike on SQLite and PostgreSQL: count here.
        counters[name] = Counter(
            _monday(moment) for moment in db.session.scalars(query.execution_options(yield_per=5000))
        )
    mondays = sorted(set().union(*counters.values()))
    if not mondays:
        return []
    span = (mondays[-1] - mondays[0]).days // 7 + 1
    if span <= MAX_WEEKS_FILLED:
        mondays = [mondays[0] + timedelta(weeks=n) for n in range(span)]
    return [Week(m, counters["proposals"][m], counters["comments"][m], counters["supports"][m]) for m in mondays]


def top_proposals(consultation_id: int, limit: int = TOP) -> list[Proposal]:
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.consultation_id == consultation_id, Proposal.state == PUBLISHED)
            .order_by(Proposal.support_count.desc(), Proposal.id)
            .limit(limit)
        )
    )


def categories(consultation_id: int) -> list[tuple[str | None, int, int]]:
    """(category or None, published proposals, their supports), most proposals first."""
    count = sa.func.count(Proposal.id)
    rows = db.session.execute(
        sa.select(Proposal.category, count, sa.func.coalesce(sa.func.sum(Proposal.support_count), 0))
        .where(Proposal.consultation_id == consultation_id, Proposal.state == PUBLISHED)
        .group_by(Proposal.category)
        .order_by(count.desc(), Proposal.category)
    )
    return [(category, int(n), int(supports)) for category, n, supports in rows]


def official_answers(consultation_id: int) -> list[Answer]:
    """The latest official answer of every proposal not hidden, by reference."""
    rows = db.session.execute(
        sa.select(Proposal, ProposalUpdate)
        .join(ProposalUpdate, ProposalUpdate.proposal_id == Proposal.id)
        .where(
            Proposal.consultation_id == consultation_id,
            Proposal.state != ContributionState.HIDDEN.value,
            ProposalUpdate.kind == UpdateKind.ANSWER.value,
        )
        .order_by(Proposal.reference, ProposalUpdate.created_at, ProposalUpdate.id)
    )
    latest: dict[str, Answer] = {}
    for proposal, update in rows:
        latest[proposal.reference] = Answer(
            proposal.reference,
            proposal.title,
            update.status,
            update.text,
            update.created_at,
            proposal.implementation_status,
        )
    return list(latest.values())


def moderation_figures(actor: Actor, consultation: Consultation) -> ModerationStats | None:
    if consultation.state == ConsultationState.DRAFT:  # nothing to moderate (the statistics skip drafts)
        return None
    found = moderation_queue.statistics(actor, consultation_id=consultation.id)
    return found[0] if found else None


def survey_figures(actor: Actor, consultation: Consultation) -> SurveyResults | ParticipationError | None:
    """The survey's results; the refusal when they are not out yet for this person (a moderator before the survey
    ends); None when the consultation has no survey."""
    asked = sa.select(SurveyQuestion.id).where(SurveyQuestion.consultation_id == consultation.id).limit(1)
    if consultation.state == ConsultationState.DRAFT or db.session.scalar(asked) is None:
        return None
    try:
        results = survey_results.survey_results(actor, consultation.id)
    except ParticipationError as refused:
        return refused
    return results
