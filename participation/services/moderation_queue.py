"""What moderators read: the queue of open cases, one contribution's case page, and the figures per consultation.

The queue lists open cases oldest first with their deadline (PARTICIPATION_MODERATION_HOURS after they opened)
and whether it has passed; flagged and pending (pre-moderated) contributions alike. Each reader loads a fixed
number of queries, however long the queue. Staff see the pseudonym a contribution appears under, never the
account behind it.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from participation.models import Comment, Consultation, ConsultationState, ContributionState, Proposal
from participation.models_moderation import (
    Appeal,
    AppealState,
    CaseCause,
    CaseState,
    Flag,
    ModerationCase,
    UserBlock,
)
from participation.services.common import load_consultation, pseudonym_names, shown_name, visible_consultation
from participation.services.moderation import (
    Contribution,
    can_moderate,
    contributions_by_key,
    kind_of,
    load_contribution,
    moderated_departments,
)
from portal.accounts.models import User
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import utcnow

QUEUE_MAX = 200
QUEUED_CAUSES = (CaseCause.FLAG.value, CaseCause.PENDING.value)  # what the time to decision is measured on


@dataclass
class QueueEntry:
    case: ModerationCase
    consultation: Consultation
    contribution: Contribution | None
    author_name: str
    flags: int = 0
    reasons: list[str] = field(default_factory=list)  # the flags' reason codes, most frequent first
    overdue: bool = False


def queue(actor: Actor, *, consultation_id: int | None = None, limit: int = QUEUE_MAX) -> list[QueueEntry]:
    """Open cases in the consultations the actor moderates, oldest first (five queries)."""
    departments = moderated_departments(actor)
    query = (
        sa.select(ModerationCase, Consultation)
        .join(Consultation, Consultation.id == ModerationCase.consultation_id)
        .where(ModerationCase.state == CaseState.OPEN)
        .order_by(ModerationCase.created_at, ModerationCase.id)
        .limit(limit)
    )
    if departments is not None:
        query = query.where(Consultation.department_id.in_(departments))
    if consultation_id is not None:
        query = query.where(ModerationCase.consultation_id == consultation_id)
    rows = [(row.ModerationCase, row.Consultation) for row in db.session.execute(query)]
    contributions = contributions_by_key((c.contribution_kind, c.contribution_id) for c, _ in rows)
    reasons: dict[int, Counter[str]] = {}
    if rows:
        counted = db.session.execute(
            sa.select(Flag.case_id, Flag.reason_code, sa.func.count(Flag.id))
            .where(Flag.case_id.in_([c.id for c, _ in rows]))
            .group_by(Flag.case_id, Flag.reason_code)
        )
        for case_id, code, n in counted:
            reasons.setdefault(case_id, Counter())[code] = int(n)
    names = pseudonym_names(c.author_id for c in contributions.values())
    now = utcnow()
    entries = []
    for case, consultation in rows:
        contribution = contributions.get((case.contribution_kind, case.contribution_id))
        counter = reasons.get(case.id, Counter())
        entries.append(
            QueueEntry(
                case,
                consultation,
                contribution,
                _name(contribution, names),
                sum(counter.values()),
                [code for code, _ in counter.most_common()],
                case.deadline_at < now,
            )
        )
    return entries


def _name(contribution: Contribution | None, names: dict[int, str]) -> str:
    if contribution is None:
        return ""
    return shown_name(contribution.author_id, names, getattr(contribution, "guest_name", None))


@dataclass
class CaseView:
    """One contribution as a moderator decides about it: the text, the flags, the history, the appeal."""

    kind: str
    contribution: Contribution
    consultation: Consultation
    author_name: str
    proposal: Proposal | None  # for a comment: the proposal it belongs to
    open_case: ModerationCase | None
    flags: list[Flag]
    history: list[ModerationCase]  # decided cases, newest first
    appeal: Appeal | None
    author_block: UserBlock | None
    staff_names: dict[int, str]  # deciders by account id (staff see each other's names)
    own: bool  # the actor wrote it: someone else decides

    @property
    def overdue(self) -> bool:
        return self.open_case is not None and self.open_case.deadline_at < utcnow()

    @property
    def can_hide(self) -> bool:
        return not self.own and self.contribution.state != ContributionState.HIDDEN

    @property
    def can_restore(self) -> bool:
        return not self.own and self.contribution.state == ContributionState.HIDDEN

    @property
    def can_publish(self) -> bool:
        return not self.own and self.contribution.state == ContributionState.PENDING

    @property
    def can_dismiss(self) -> bool:
        return (
            not self.own
            and self.open_case is not None
            and self.open_case.cause == CaseCause.FLAG
            and self.contribution.state == ContributionState.PUBLISHED
        )


def get_case(actor: Actor, kind: str, contribution_id: int) -> CaseView:
    """The case page of a contribution, for those who moderate its consultation (others: 403)."""
    from participation.services.moderation_people import active_block, can_block

    contribution = load_contribution(kind, contribution_id)
    consultation = load_consultation(contribution.consultation_id)
    if not can_moderate(actor, consultation):
        raise Forbidden()
    cases = list(
        db.session.scalars(
            sa.select(ModerationCase)
            .where(ModerationCase.contribution_kind == kind, ModerationCase.contribution_id == contribution.id)
            .order_by(ModerationCase.id.desc())
        )
    )
    flags = list(
        db.session.scalars(
            sa.select(Flag)
            .where(Flag.contribution_kind == kind, Flag.contribution_id == contribution.id)
            .order_by(Flag.created_at.desc(), Flag.id.desc())
        )
    )
    appeal = db.session.scalar(
        sa.select(Appeal).where(Appeal.contribution_kind == kind, Appeal.contribution_id == contribution.id)
    )
    proposal = None
    if isinstance(contribution, Comment) and contribution.proposal_id is not None:
        proposal = db.session.get(Proposal, contribution.proposal_id)
    block = None
    if contribution.author_id is not None and can_block(actor):
        block = active_block(contribution.author_id)
    deciders = {c.decided_by_id for c in cases} | {appeal.decided_by_id if appeal else None}
    names = pseudonym_names([contribution.author_id])
    return CaseView(
        kind=kind_of(contribution),
        contribution=contribution,
        consultation=consultation,
        author_name=_name(contribution, names),
        proposal=proposal,
        open_case=next((c for c in cases if c.state == CaseState.OPEN), None),
        flags=flags,
        history=[c for c in cases if c.state == CaseState.DECIDED],
        appeal=appeal,
        author_block=block,
        staff_names=staff_names(deciders),
        own=actor.user is not None and contribution.author_id == actor.user.id,
    )


def staff_names(user_ids: Any) -> dict[int, str]:
    """Names of staff accounts (moderators, managers) for the pages that say who decided."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.display_name, User.email).where(User.id.in_(ids)))
    return {row.id: row.display_name or row.email for row in rows}


def counts(actor: Actor) -> tuple[int, int]:
    """How many cases and appeals wait for the actor (open, in the consultations they moderate)."""
    departments = moderated_departments(actor)
    cases = sa.select(sa.func.count(ModerationCase.id)).where(ModerationCase.state == CaseState.OPEN)
    appeals = sa.select(sa.func.count(Appeal.id)).where(Appeal.state == AppealState.OPEN)
    if departments is not None:
        mine = sa.select(Consultation.id).where(Consultation.department_id.in_(departments))
        cases = cases.where(ModerationCase.consultation_id.in_(mine))
        appeals = appeals.where(Appeal.consultation_id.in_(mine))
    return int(db.session.scalar(cases) or 0), int(db.session.scalar(appeals) or 0)


# --- figures ----------------------------------------------------------------------------------------------------


@dataclass
class ModerationStats:
    """A consultation's moderation in figures (for its page, exports and the council report)."""

    consultation: Consultation
    cases: int = 0  # flagged or pending contributions that came to the queue
    open: int = 0
    flags: int = 0
    decisions: dict[str, int] = field(default_factory=dict)  # every decision, by kind (hide, restore, ...)
    overdue: int = 0  # queue cases decided after their deadline, or still open past it
    hidden: int = 0  # contributions hidden now
    median_hours: float | None = None  # time from opening to decision, queue cases only
    mean_hours: float | None = None
    appeals: int = 0
    appeals_granted: int = 0
    appeals_open: int = 0


def statistics(actor: Actor, *, consultation_id: int | None = None) -> list[ModerationStats]:
    """Moderation figures of every consultation the actor moderates (or one), newest first; seven queries."""
    departments = moderated_departments(actor)
    query = sa.select(Consultation).where(Consultation.state != ConsultationState.DRAFT)
    if departments is not None:
        query = query.where(Consultation.department_id.in_(departments))
    if consultation_id is not None:
        query = query.where(Consultation.id == consultation_id)
    consultations = list(db.session.scalars(query.order_by(Consultation.created_at.desc(), Consultation.id.desc())))
    if consultation_id is not None and not consultations:
        raise Forbidden()
    return consultation_figures(consultations)


def consultation_figures(consultations: list[Consultation]) -> list[ModerationStats]:
    """The figures of these consultations (six queries), without statistics' check of who may read them: for a
    caller that made its own (the council's readers, participation.services.readers)."""
    figures = {c.id: ModerationStats(c) for c in consultations}
    if not figures:
        return []
    ids = list(figures)
    now = utcnow()
    durations: dict[int, list[float]] = {}
    cases = db.session.execute(
        sa.select(
            ModerationCase.consultation_id,
            ModerationCase.cause,
            ModerationCase.decision,
            ModerationCase.created_at,
            ModerationCase.deadline_at,
            ModerationCase.decided_at,
        ).where(ModerationCase.consultation_id.in_(ids))
    )
    for consultation_id_, cause, decision, created, deadline, decided in cases:
        figure = figures[consultation_id_]
        if decision is not None:
            figure.decisions[decision] = figure.decisions.get(decision, 0) + 1
        if cause not in QUEUED_CAUSES:
            continue
        figure.cases += 1
        if decided is None:
            figure.open += 1
            figure.overdue += deadline < now
        else:
            figure.overdue += decided > deadline
            durations.setdefault(consultation_id_, []).append(_hours(created, decided))
    for consultation_id_, values in durations.items():
        figures[consultation_id_].median_hours = round(stats.median(values), 1)
        figures[consultation_id_].mean_hours = round(stats.fmean(values), 1)
    for consultation_id_, n in _grouped(Flag.consultation_id, sa.func.count(Flag.id), ids):
        figures[consultation_id_].flags = n
    for model in (Proposal, Comment):
        hidden = _grouped(model.consultation_id, sa.func.count(model.id), ids, model.state == ContributionState.HIDDEN)
        for consultation_id_, n in hidden:
            figures[consultation_id_].hidden += n
    for consultation_id_, state, n in db.session.execute(
        sa.select(Appeal.consultation_id, Appeal.state, sa.func.count(Appeal.id))
        .where(Appeal.consultation_id.in_(ids))
        .group_by(Appeal.consultation_id, Appeal.state)
    ):
        figure = figures[consultation_id_]
        figure.appeals += n
        figure.appeals_granted += n if state == AppealState.GRANTED else 0
        figure.appeals_open += n if state == AppealState.OPEN else 0
    return list(figures.values())


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _grouped(key: Any, value: Any, ids: list[int], *where: Any) -> list[tuple[int, int]]:
    rows = db.session.execute(sa.select(key, value).where(key.in_(ids), *where).group_by(key))
    return [(row[0], int(row[1])) for row in rows]


@dataclass
class Shown:
    """A published contribution as anyone may see it (the flag page)."""

    kind: str
    contribution: Contribution
    consultation: Consultation
    author_name: str


def published_contribution(actor: Actor, kind: str, contribution_id: int) -> Shown:
    """A contribution everyone may see (published, in a consultation the actor may see); others: 404."""
    contribution = load_contribution(kind, contribution_id)
    consultation = visible_consultation(actor, contribution.consultation_id)
    if contribution.state != ContributionState.PUBLISHED:
        raise NotFound()
    return Shown(
        kind_of(contribution),
        contribution,
        consultation,
        _name(contribution, pseudonym_names([contribution.author_id])),
    )
