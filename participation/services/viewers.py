"""What a signed-in reader's view of a consultation's or a proposal's page depends on, beyond the page itself:
read in one statement, so that a page shared by such readers (participation.shared_pages) costs them little."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from participation.models import Consultation, ContributionState, Proposal, Pseudonym, Support
from participation.models_moderation import UserBlock
from participation.services import consultations, proposals
from participation.services.comments import thread_of
from portal.accounts.models import DepartmentMembership, UserRole
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class ReaderFacts:
    staff: bool  # the header shows the staff's links (User.is_staff)
    named: bool  # has a pseudonym: the comment form asks for none
    block_ends: datetime | None  # a moderation block in force (rules.blocked_until)
    wrote_in_thread: bool  # a comment of theirs, in any state, in the thread the page shows
    pending_proposal: bool  # a proposal of theirs waiting for moderation in the consultation (on its list)
    # On a consultation's page: the proposals of it the reader supports, for the list's badges; None if there are
    # more than SUPPORTS_READ_AHEAD (then the page asks for the ids it shows) or on a proposal's page.
    supported: frozenset[int] | None = None


# A reader's supports in one consultation are read with the facts, saving the list page a round trip; someone who
# supports more than this many gets the page's own query instead of a long string.
SUPPORTS_READ_AHEAD = 100


def _facts(user_id: Any, consultation_id: Any, now: Any, proposal_id: Any | None) -> list[Any]:
    """The facts' columns; the arguments are bound parameters or expressions. A consultation's page (`proposal_id`
    None) also gets the reader's supports in it."""
    supported: list[Any] = []
    if proposal_id is None:
        ids = (
            sa.select(Support.proposal_id.label("id"))
            .join(Proposal, Proposal.id == Support.proposal_id)
            .where(Support.user_id == user_id, Proposal.consultation_id == consultation_id)
            .limit(SUPPORTS_READ_AHEAD + 1)
            .subquery()
        )
        supported = [sa.select(sa.func.aggregate_strings(sa.cast(ids.c.id, sa.String), ",")).scalar_subquery()]
    return [
        sa.exists().where(UserRole.user_id == user_id),
        sa.exists().where(DepartmentMembership.user_id == user_id),
        sa.exists().where(Pseudonym.user_id == user_id),
        sa.select(sa.func.max(UserBlock.until))
        .where(UserBlock.user_id == user_id, UserBlock.lifted_at.is_(None), UserBlock.until > now)
        .scalar_subquery(),
        sa.exists().where(*thread_of(user_id, consultation_id, proposal_id)),
        sa.exists().where(
            Proposal.author_id == user_id,
            Proposal.consultation_id == consultation_id,
            Proposal.state == ContributionState.PENDING,
        ),
        *supported,
    ]


def _facts_statement(for_proposal: bool) -> sa.Select:
    """Built once per kind of page: building the expression cost more CPU than running it (measured)."""
    proposal_id: Any = sa.bindparam("proposal_id") if for_proposal else None
    user_id: Any = sa.bindparam("user_id")
    return sa.select(*_facts(user_id, sa.bindparam("consultation_id"), sa.bindparam("now"), proposal_id))


def _consultation_with_facts(for_proposal: bool) -> sa.Select:
    """The consultation at its address as consultations.get_by_slug reads it, each row with the reader's facts
    for its page or for the page of its proposal with the given reference: one round trip instead of two. The
    ids are looked up by address and reference once (uncorrelated subqueries), not for each of the rows the
    joined phases make."""
    at_address = aliased(Consultation)
    consultation_id = sa.select(at_address.id).where(at_address.slug == sa.bindparam("slug")).scalar_subquery()
    proposal_id = None
    if for_proposal:
        with_reference = aliased(Proposal)
        proposal_id = (
            sa.select(with_reference.id).where(with_reference.reference == sa.bindparam("reference")).scalar_subquery()
        )
    return consultations.by_slug_statement().add_columns(
        *_facts(sa.bindparam("user_id"), consultation_id, sa.bindparam("now"), proposal_id)
    )


_FACTS = {for_proposal: _facts_statement(for_proposal) for for_proposal in (False, True)}
_CONSULTATION_WITH_FACTS = {for_proposal: _consultation_with_facts(for_proposal) for for_proposal in (False, True)}


def consultation_with_facts(
    actor: Actor, slug: str, reference: str | None = None, now: datetime | None = None
) -> tuple[Consultation, ReaderFacts]:
    """For a signed-in reader of a consultation's page (or of the page of its proposal `reference`): the
    consultation (as consultations.get_by_slug gives it, 404 alike) and the reader's facts for the page, in one
    statement. Whether the proposal exists and belongs to it is the caller's to check."""
    assert actor.user is not None
    values = {"slug": slug, "user_id": actor.user.id, "now": now or utcnow()}
    if reference is not None:
        values["reference"] = proposals.normal_reference(reference)
    statement = _CONSULTATION_WITH_FACTS[reference is not None]
    row = db.session.execute(statement, values).unique().one_or_none()
    consultation = consultations.shown_to(actor, row[0] if row is not None else None)
    assert row is not None
    return consultation, _read_facts(tuple(row[1:]), for_proposal=reference is not None)


def reader_facts(
    user_id: int, consultation_id: int, proposal_id: int | None, now: datetime | None = None
) -> ReaderFacts:
    """The facts for the page of the consultation (`proposal_id` None) or of one of its proposals."""
    values = {"user_id": user_id, "consultation_id": consultation_id, "now": now or utcnow()}
    if proposal_id is not None:
        values["proposal_id"] = proposal_id
    # On the session's connection: a Core statement needs none of the ORM's result handling (measured).
    row = db.session.connection().execute(_FACTS[proposal_id is not None], values).one()
    return _read_facts(tuple(row), for_proposal=proposal_id is not None)


def _read_facts(row: tuple[Any, ...], *, for_proposal: bool) -> ReaderFacts:
    role, member, named, block_ends, wrote, pending = row[:6]
    supported = None
    if not for_proposal:
        ids = [int(i) for i in row[6].split(",")] if row[6] else []
        supported = frozenset(ids) if len(ids) <= SUPPORTS_READ_AHEAD else None
    return ReaderFacts(
        bool(role or member),
        bool(named),
        as_utc(block_ends) if block_ends is not None else None,
        bool(wrote),
        bool(pending),
        supported,
    )
