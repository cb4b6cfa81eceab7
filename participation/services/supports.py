"""Support for proposals: one per person and proposal, withdrawable while the phase opens "support".

The counters of the proposal and its consultation change in the same transaction as the support row. A double
click meets the consultation's row lock (PostgreSQL: the second request waits, then finds the support) and, as
the last guard on any database, the UNIQUE (proposal_id, user_id): the loser gets "already supported", never a
500, and the counter is right. When a proposal's supports reach the consultation's threshold it is marked for
an official answer (`answer_requested_at`), once; withdrawing later does not unmark it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import cache_token, rules
from participation.errors import ParticipationError
from participation.models import Consultation, ContributionState, Proposal, Support
from participation.services.common import bump, check_allowed, load_consultation, visible_consultation
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction


@dataclass(frozen=True)
class SupportResult:
    """After a support or its withdrawal: the proposal's new count, and whether this support reached the
    threshold (the proposal is now marked for an official answer)."""

    proposal_id: int
    support_count: int
    answer_requested: bool = False


def already_supported() -> ParticipationError:
    return ParticipationError("support", _l("Sie unterstützen diesen Vorschlag schon."), "already_supported", 409)


def _proposal(actor: Actor, proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound()
    visible_consultation(actor, proposal.consultation_id)
    return proposal


def _has_supported(proposal_id: int, user_id: int) -> bool:
    query = sa.select(Support.id).where(Support.proposal_id == proposal_id, Support.user_id == user_id)
    return db.session.scalar(query) is not None


def _mark_for_answer(actor: Actor, consultation: Consultation, proposal: Proposal, count: int) -> bool:
    threshold = consultation.support_threshold
    if threshold is None or count < threshold:
        return False
    marked = db.session.execute(
        sa.update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.answer_requested_at.is_(None))
        .values(answer_requested_at=utcnow()),
        execution_options={"synchronize_session": False, **cache_token.statement_options(db.session, proposal)},
    ).rowcount  # type: ignore[attr-defined]
    if not marked:
        return False
    audit.record(
        "participation.answer_requested",
        actor,
        target=proposal,
        consultation=consultation.slug,
        proposal=proposal.reference,
        support_count=count,
        threshold=threshold,
    )
    return True


def support(actor: Actor, proposal_id: int) -> SupportResult:
    """Support a published proposal; refused outside a phase that opens "support", or a second time."""
    proposal = _proposal(actor, proposal_id)
    with transaction():
        consultation = load_consultation(proposal.consultation_id, for_update=True)
        check_allowed(actor, consultation, rules.SUPPORT, "support")
        user = actor.user
        assert user is not None  # the rules let only signed-in people support
        db.session.refresh(proposal)
        if proposal.state != ContributionState.PUBLISHED:
            raise ParticipationError(
                "support", _l("Dieser Vorschlag kann nicht unterstützt werden."), "not_published", 409
            )
        if _has_supported(proposal.id, user.id):
            raise already_supported()
        try:
            db.session.add(Support(proposal_id=proposal.id, user_id=user.id))
            db.session.flush()
        except IntegrityError:
            raise already_supported() from None  # a concurrent click won; transaction() rolls ours back
        count = bump(proposal, "support_count", 1)
        bump(consultation, "support_count", 1)
        audit.record(
            "participation.supported",
            actor,
            target=proposal,
            subject_user_id=user.id,
            consultation=consultation.slug,
            proposal=proposal.reference,
            support_count=count,
        )
        requested = _mark_for_answer(actor, consultation, proposal, count)
    return SupportResult(proposal_id, count, requested)


def withdraw(actor: Actor, proposal_id: int) -> SupportResult:
    """Withdraw the actor's support while the phase still opens "support"; refused if there is none."""
    proposal = _proposal(actor, proposal_id)
    with transaction():
        consultation = load_consultation(proposal.consultation_id, for_update=True)
        check_allowed(actor, consultation, rules.SUPPORT, "support")
        user = actor.user
        assert user is not None
        deleted = db.session.execute(
            sa.delete(Support).where(Support.proposal_id == proposal.id, Support.user_id == user.id),
            execution_options=cache_token.statement_options(db.session, proposal),
        ).rowcount  # type: ignore[attr-defined]
        if not deleted:
            raise ParticipationError("support", _l("Sie unterstützen diesen Vorschlag nicht."), "not_supported", 409)
        count = bump(proposal, "support_count", -1)
        bump(consultation, "support_count", -1)
        audit.record(
            "participation.support_withdrawn",
            actor,
            target=proposal,
            subject_user_id=user.id,
            consultation=consultation.slug,
            proposal=proposal.reference,
            support_count=count,
        )
    return SupportResult(proposal_id, count)


def supports_of(actor: Actor, proposal_ids: list[int]) -> set[int]:
    """Which of these proposals the actor supports (one query), e.g. to show "Unterstützt" on a page."""
    if actor.user is None or not proposal_ids:
        return set()
    return set(db.session.scalars(_SUPPORTED, {"user_id": actor.user.id, "ids": proposal_ids}))


# Built once: every signed-in list page asks it (building the expression cost more CPU than running it).
_SUPPORTED = sa.select(Support.proposal_id).where(
    Support.user_id == sa.bindparam("user_id"), Support.proposal_id.in_(sa.bindparam("ids", expanding=True))
)
