"""One use case, one transaction: the change, its audit event and its mail commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session

from portal.extensions import db
from portal.reads_alone import refuse_unit_of_work


@contextmanager
def transaction() -> Iterator[scoped_session]:
    """After the commit, what the use case wrote stays readable without the database (the objects are not
    expired): once a change is committed, nothing in the request may turn its success into a 5xx, not even a
    database that went away a moment later (issue 11, finding 6: a committed booking answered 500 because the
    view read `booking.reference`, which reloaded it)."""
    refuse_unit_of_work()
    try:
        yield db.session
        _commit_keeping_state()
    except BaseException:
        db.session.rollback()
        raise


def _commit_keeping_state() -> None:
    """Commit, keeping the column values in memory (they are what this transaction wrote or read in it);
    related collections are expired, since rows may have been added to them by query rather than by append."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
    for obj in list(session.identity_map.values()):
        relationships = sa.inspect(obj).mapper.relationships
        if relationships:
            session.expire(obj, [relationship.key for relationship in relationships])


@event.listens_for(Session, "do_orm_execute")
def _locking_reads_see_the_database(state: ORMExecuteState) -> None:
    """A locking read (SELECT ... FOR UPDATE) returns the row as it is now, also for an object this session still
    holds from an earlier, committed transaction of the request: since commits keep the values in memory, the
    identity map would otherwise hand back what the row was then, and the lock would guard a stale decision."""
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.update_execution_options(populate_existing=True)
