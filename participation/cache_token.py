"""Each consultation's cache token: replaced in the very transaction that changes what its pages show.

Rendered pages and the comments API's JSON are kept under the token (participation.page_store), so a new, edited,
hidden or restored comment, a support, a proposal's change or an official answer shows on the next request. The
token lives in the consultation's row, not in Redis: it commits or rolls back with the change itself, every worker
reads it with the consultation it loads anyway (the first query of each page, before the rows it shows, so a page
is never kept under a token newer than its rows), and it needs no Redis to be right. It is random rather than a
counter so that two databases (tests, benchmarks) sharing one Redis never hand each other's pages out.

Nobody has to remember to replace it: the session's flush reports every participation row written (its
consultation, or its proposal's), and an UPDATE or DELETE statement on those tables replaces every consultation's
token unless its caller named the consultation (`statement_options(...)`, as the counters' `bump` does). Changes
outside participation (a department's name) are covered only by the stored pages' lifetime (page_store.MAX_AGE).
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import set_committed_value

from participation.models import Comment, Consultation, Phase, Proposal, Pseudonym, Support
from participation.models_results import ProposalUpdate
from participation.models_surveys import DraftParagraph

CONSULTATIONS = "participation_cache_consultations"  # session.info: ids whose token this transaction replaces
PROPOSALS = "participation_cache_proposals"  # ... the consultations of these proposals
ALL = "participation_cache_all"  # ... every consultation's (a change not tied to one, e.g. a pseudonym)
NAMED = "participation_cache_named"  # execution option: the statement's consultation is already marked

# The tables whose rows the cached pages show; a statement on any of them replaces tokens.
SHOWN = {
    model.__tablename__: model
    for model in (Consultation, Phase, Proposal, Comment, Support, ProposalUpdate, Pseudonym, DraftParagraph)
}


def mark(session: Any, row: Any) -> None:
    """The consultation of this row (a consultation, or a row with consultation_id or proposal_id) changes."""
    info = session.info
    if isinstance(row, Consultation):
        info.setdefault(CONSULTATIONS, set()).add(row.id)
    elif getattr(row, "consultation_id", None) is not None:
        info.setdefault(CONSULTATIONS, set()).add(row.consultation_id)
    elif getattr(row, "proposal_id", None) is not None:
        info.setdefault(PROPOSALS, set()).add(row.proposal_id)
    else:
        info[ALL] = True


def statement_options(session: Any, row: Any) -> dict[str, Any]:
    """Execution options for an UPDATE/DELETE that changes only `row`'s consultation (marked here)."""
    mark(session, row)
    return {NAMED: True}


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context: Any, _instances: Any) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(row), "__table__", None)
        if table is None or table.name not in SHOWN:
            continue
        if row in session.dirty and not session.is_modified(row, include_collections=False):
            continue
        if isinstance(row, Pseudonym):
            session.info[ALL] = True  # a name shown on every page its owner wrote on
        else:
            mark(session, row)


@event.listens_for(Session, "do_orm_execute")
def _statements(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.execution_options.get(NAMED):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in SHOWN:
        state.session.info[ALL] = True  # bulk changes (detaching authors, erasure): rare, so replace all


@event.listens_for(Session, "before_commit")
def _replace(session: Session) -> None:
    session.flush()  # the rows still pending report their consultations first
    info = session.info
    every = info.pop(ALL, False)
    ids = info.pop(CONSULTATIONS, set())
    proposal_ids = info.pop(PROPOSALS, set())
    if not (every or ids or proposal_ids):
        return
    token = secrets.token_hex(8)
    statement = sa.update(Consultation).values(cache_token=token)
    if not every:
        of_proposals = sa.select(Proposal.consultation_id).where(Proposal.id.in_(proposal_ids))
        statement = statement.where(sa.or_(Consultation.id.in_(ids), Consultation.id.in_(of_proposals)))
    session.execute(statement, execution_options={NAMED: True, "synchronize_session": False})
    # What this request still renders after its commit uses the new token too (commits keep values in memory).
    for row in list(session.identity_map.values()):
        if isinstance(row, Consultation) and (every or row.id in ids):
            set_committed_value(row, "cache_token", token)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in (CONSULTATIONS, PROPOSALS, ALL):
        session.info.pop(key, None)
