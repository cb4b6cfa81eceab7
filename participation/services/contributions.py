"""Reading single contributions for the citizens' pages: one comment with its place in a thread, and everything a
participant wrote ("Meine Beteiligung").

A comment's page follows the thread's rules: a hidden comment stays visible as a placeholder (no text), a pending
one only for its author (and the consultation's managers and moderators), and nothing of a draft consultation
or of a proposal the viewer may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from participation import rules
from participation.models import Comment, Consultation, ContributionState, Proposal
from participation.services import pseudonyms
from participation.services.comments import CommentItem
from participation.services.common import pseudonym_names, shown_name, visible_consultation
from participation.services.proposals import get_proposal
from portal.actors import Actor
from portal.extensions import db

MINE_LIMIT = 100


@dataclass
class CommentInContext:
    """A comment for its own page: the item as a thread shows it, its consultation and proposal (if any)."""

    item: CommentItem
    consultation: Consultation
    proposal: Proposal | None


def _is_staff(actor: Actor, consultation: Consultation) -> bool:
    return rules.is_manager(actor, consultation.department_id) or (
        actor.user is not None and actor.token is None and actor.has_role("moderator")
    )


def consultation_of_comment(actor: Actor, comment_id: int) -> Consultation:
    """The consultation a comment belongs to, with its phases, read before the comment itself (its cache token keys
    the comment's page: participation.cached_pages); 404 where the actor may not see the consultation."""
    consultation = (
        db.session.scalars(
            sa.select(Consultation)
            .join(Comment, Comment.consultation_id == Consultation.id)
            .where(Comment.id == comment_id)
            .options(joinedload(Consultation.phases))
        )
        .unique()
        .one_or_none()
    )
    if consultation is None:
        raise NotFound()
    return visible_consultation(actor, consultation.id)


def get_comment(actor: Actor, comment_id: int) -> CommentInContext:
    """One comment where the actor may see it in its thread (else 404), with what it belongs to."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound()
    consultation = visible_consultation(actor, comment.consultation_id)
    own = actor.user is not None and comment.author_id == actor.user.id
    if comment.state == ContributionState.PENDING and not (own or _is_staff(actor, consultation)):
        raise NotFound()
    proposal = get_proposal(actor, comment.proposal_id).proposal if comment.proposal_id is not None else None
    names = pseudonym_names([comment.author_id])
    item = CommentItem(comment, shown_name(comment.author_id, names, comment.guest_name), own)
    return CommentInContext(item, consultation, proposal)


@dataclass
class MyProposal:
    proposal: Proposal
    consultation_slug: str
    consultation_title: str


@dataclass
class MyComment:
    comment: Comment
    consultation_slug: str
    consultation_title: str
    proposal_reference: str | None
    proposal_title: str | None


@dataclass
class MyParticipation:
    """What the signed-in person wrote, newest first (at most MINE_LIMIT of each), and the name they appear under."""

    pseudonym: str | None
    proposals: list[MyProposal]
    comments: list[MyComment]


def my_participation(actor: Actor, limit: int = MINE_LIMIT) -> MyParticipation:
    """The actor's own proposals and comments in every state (their pending and hidden ones too); three queries."""
    if actor.user is None:
        raise NotFound()
    user_id = actor.user.id
    proposal_rows = db.session.execute(
        sa.select(Proposal, Consultation.slug, Consultation.title)
        .join(Consultation, Consultation.id == Proposal.consultation_id)
        .where(Proposal.author_id == user_id)
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
        .limit(limit)
    )
    comment_rows = db.session.execute(
        sa.select(Comment, Consultation.slug, Consultation.title, Proposal.reference, Proposal.title)
        .join(Consultation, Consultation.id == Comment.consultation_id)
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .where(Comment.author_id == user_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    mine = pseudonyms.get_pseudonym(user_id)
    return MyParticipation(
        mine.name if mine else None,
        [MyProposal(*row) for row in proposal_rows],
        [MyComment(*row) for row in comment_rows],
    )
