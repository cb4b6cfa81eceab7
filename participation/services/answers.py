"""Closing the loop: the city's official answer to a proposal, and later how far its implementation has got.

The consultation's managers (its department's consultation managers, or a platform admin) answer while the
consultation is published or closed: accepted, under review or rejected, with a text. Once the latest answer
accepts a proposal, they add progress notes (planned, in progress, done, stopped). Every answer and note is a row
of its own (participation.models_results.ProposalUpdate), so the proposal page shows the whole history; the
proposal keeps the latest status of each for lists and filters. The public sees the department, never the
person who wrote it.

Each use case locks the consultation's row first, then the proposal, and writes its audit event last. The
event's subject is the proposal's author (if it is not detached), so the answer appears in their Protokoll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import Consultation, ConsultationState, ContributionState, Proposal
from participation.models_results import (
    UPDATE_TEXT_MAX,
    AnswerStatus,
    ImplementationStatus,
    ProposalUpdate,
    UpdateKind,
)
from participation.services.common import load_consultation, managed_consultation, pseudonym_names, shown_name
from participation.text import plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

ANSWER_LABELS: dict[str, Any] = {
    AnswerStatus.ACCEPTED: _l("Angenommen"),
    AnswerStatus.UNDER_REVIEW: _l("In Prüfung"),
    AnswerStatus.REJECTED: _l("Abgelehnt"),
}
IMPLEMENTATION_LABELS: dict[str, Any] = {
    ImplementationStatus.PLANNED: _l("Geplant"),
    ImplementationStatus.IN_PROGRESS: _l("In Umsetzung"),
    ImplementationStatus.DONE: _l("Umgesetzt"),
    ImplementationStatus.STOPPED: _l("Eingestellt"),
}
# Answers (and notes) may be written while the consultation runs and after it closed, not in a draft or archive.
ANSWERABLE = (ConsultationState.PUBLISHED, ConsultationState.CLOSED)
SHOW = ("awaiting", "answered")
PAGE_SIZE = 50


@dataclass(frozen=True)
class HistoryEntry:
    """One answer or progress note as the public reads it: by the department, never a person's name."""

    kind: str  # UpdateKind
    status: str
    label: str
    text: str
    created_at: datetime
    department: str


@dataclass
class AnswerCase:
    """What a manager sees to answer one proposal."""

    consultation: Consultation
    proposal: Proposal
    author_name: str
    history: list[HistoryEntry]

    @property
    def may_answer(self) -> bool:
        return self.consultation.state in ANSWERABLE and self.proposal.state == ContributionState.PUBLISHED

    @property
    def may_add_progress(self) -> bool:
        return self.may_answer and self.proposal.answer_status == AnswerStatus.ACCEPTED


@dataclass
class AnswerListing:
    """One page of a consultation's proposals on the managers' answer list."""

    items: list[tuple[Proposal, str]]  # the proposal and the name it appears under
    page: int
    total: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def status_label(kind: str, status: str | None) -> str:
    labels = ANSWER_LABELS if kind == UpdateKind.ANSWER else IMPLEMENTATION_LABELS
    return str(labels.get(status or "", status or ""))


def _locked(actor: Actor, proposal_id: int) -> tuple[Consultation, Proposal]:
    """Inside the transaction: the consultation locked (Forbidden unless the actor manages it), then the proposal
    as it is now; refused unless both may still be answered."""
    found = db.session.get(Proposal, proposal_id)
    if found is None:
        raise NotFound()
    consultation = managed_consultation(actor, found.consultation_id)
    proposal = db.session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    assert proposal is not None  # proposals are never deleted
    if consultation.state not in ANSWERABLE:
        raise ParticipationError(
            "status",
            _l("Antworten sind nur in laufenden oder abgeschlossenen Verfahren möglich."),
            "not_answerable",
            409,
        )
    if proposal.state != ContributionState.PUBLISHED:
        raise ParticipationError(
            "status", _l("Nur veröffentlichte Vorschläge werden beantwortet."), "not_published", 409
        )
    return consultation, proposal


def _status(value: Any, allowed: type[AnswerStatus] | type[ImplementationStatus]) -> str:
    if not isinstance(value, str) or value not in {s.value for s in allowed}:
        raise ParticipationError("status", _l("Wählen Sie einen Stand."), "bad_status")
    return value


def _write(actor: Actor, proposal: Proposal, kind: UpdateKind, status: str, text: str) -> ProposalUpdate:
    update = ProposalUpdate(
        proposal_id=proposal.id,
        kind=kind.value,
        status=status,
        text=text,
        created_by_id=actor.user.id if actor.user else None,
        created_at=utcnow(),
    )
    db.session.add(update)
    return update


def answer(actor: Actor, proposal_id: int, status: str, text: str) -> ProposalUpdate:
    """The official answer to a published proposal (accepted / under_review / rejected, with a text).

    A later answer replaces the earlier one as the proposal's status; both stay in its history. An answer that
    does not accept the proposal ends its implementation status (progress notes stay in the history).
    """
    status = _status(status, AnswerStatus)
    body = plain_text(text, "text", UPDATE_TEXT_MAX)
    with transaction():
        consultation, proposal = _locked(actor, proposal_id)
        update = _write(actor, proposal, UpdateKind.ANSWER, status, body)
        proposal.answer_status = status
        proposal.answered_at = update.created_at
        if status != AnswerStatus.ACCEPTED:
            proposal.implementation_status = None
        audit.record(
            "participation.answered",
            actor,
            target=proposal,
            subject_user_id=proposal.author_id,
            consultation=consultation.slug,
            proposal=proposal.reference,
            status=status,
            department_id=consultation.department_id,
        )
    return update


def add_progress(actor: Actor, proposal_id: int, status: str, text: str) -> ProposalUpdate:
    """A progress note on an accepted proposal (planned / in_progress / done / stopped, with a text); refused
    unless the latest answer accepted it."""
    status = _status(status, ImplementationStatus)
    body = plain_text(text, "text", UPDATE_TEXT_MAX)
    with transaction():
        consultation, proposal = _locked(actor, proposal_id)
        if proposal.answer_status != AnswerStatus.ACCEPTED:
            raise ParticipationError(
                "status",
                _l("Einen Umsetzungsstand gibt es erst, wenn der Vorschlag angenommen ist."),
                "not_accepted",
                409,
            )
        update = _write(actor, proposal, UpdateKind.IMPLEMENTATION, status, body)
        proposal.implementation_status = status
        audit.record(
            "participation.progress_noted",
            actor,
            target=proposal,
            subject_user_id=proposal.author_id,
            consultation=consultation.slug,
            proposal=proposal.reference,
            status=status,
            department_id=consultation.department_id,
        )
    return update


# --- reading --------------------------------------------------------------------------------------------------


def history(proposal_id: int) -> list[HistoryEntry]:
    """The proposal's answers and progress notes, oldest first, each signed by the consultation's department
    (one query). The caller has checked that the viewer may see the proposal."""
    rows = db.session.execute(
        sa.select(ProposalUpdate, Department.name)
        .join(Proposal, Proposal.id == ProposalUpdate.proposal_id)
        .join(Consultation, Consultation.id == Proposal.consultation_id)
        .join(Department, Department.id == Consultation.department_id)
        .where(ProposalUpdate.proposal_id == proposal_id)
        .order_by(ProposalUpdate.created_at, ProposalUpdate.id)
    )
    return [
        HistoryEntry(u.kind, u.status, status_label(u.kind, u.status), u.text, u.created_at, department)
        for u, department in rows
    ]


def history_of(proposal: Proposal) -> list[HistoryEntry]:
    """`history` for a proposal page: no query for a proposal never answered (a history begins with an answer,
    which sets `answer_status`; nothing clears it)."""
    return history(proposal.id) if proposal.answer_status is not None else []


def _managed(actor: Actor, consultation_id: int) -> Consultation:
    consultation = load_consultation(consultation_id)
    if not rules.is_manager(actor, consultation.department_id):
        raise Forbidden()
    return consultation


def _awaiting(consultation: Consultation) -> Any:
    """Published proposals without an answer that need one: those that reached the support threshold, and once
    the consultation is closed, all of them."""
    conditions = [
        Proposal.consultation_id == consultation.id,
        Proposal.state == ContributionState.PUBLISHED,
        Proposal.answer_status.is_(None),
    ]
    if consultation.state != ConsultationState.CLOSED:
        conditions.append(Proposal.answer_requested_at.is_not(None))
    return (
        sa.select(Proposal)
        .where(*conditions)
        # Those that asked for an answer first, in the order they asked; then the most supported.
        .order_by(
            Proposal.answer_requested_at.is_(None),
            Proposal.answer_requested_at,
            Proposal.support_count.desc(),
            Proposal.id,
        )
    )


def awaiting_answer(actor: Actor, consultation_id: int) -> list[Proposal]:
    """The proposals of a consultation still waiting for their official answer (its managers only)."""
    consultation = _managed(actor, consultation_id)
    return list(db.session.scalars(_awaiting(consultation)))


def answer_list(
    actor: Actor, consultation_id: int, *, show: str = "awaiting", status: str | None = None, page: int = 1
) -> tuple[Consultation, AnswerListing]:
    """The managers' list: proposals awaiting an answer, or those answered (newest answer first, optionally of
    one answer `status`), a page of PAGE_SIZE at a time, with the names they appear under."""
    if show not in SHOW:
        raise ParticipationError("show", _l("Diese Auswahl gibt es nicht."), "bad_show", 400)
    consultation = _managed(actor, consultation_id)
    if show == "awaiting":
        query = _awaiting(consultation)
    else:
        query = sa.select(Proposal).where(
            Proposal.consultation_id == consultation.id, Proposal.answer_status.is_not(None)
        )
        if status:
            query = query.where(Proposal.answer_status == _status(status, AnswerStatus))
        query = query.order_by(Proposal.answered_at.desc(), Proposal.id.desc())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // PAGE_SIZE))))
    rows = list(db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    names = pseudonym_names(p.author_id for p in rows)
    items = [(p, shown_name(p.author_id, names)) for p in rows]
    return consultation, AnswerListing(items, page, total)


def answer_case(actor: Actor, consultation_id: int, reference: str) -> AnswerCase:
    """One proposal of the consultation with its history, for the managers' answer page (404 if it is not one
    of the consultation's, 403 for anyone who does not manage it)."""
    consultation = _managed(actor, consultation_id)
    proposal = db.session.scalar(
        sa.select(Proposal).where(
            Proposal.consultation_id == consultation.id, Proposal.reference == reference.strip().upper()
        )
    )
    if proposal is None:
        raise NotFound()
    names = pseudonym_names([proposal.author_id])
    return AnswerCase(consultation, proposal, shown_name(proposal.author_id, names), history(proposal.id))
