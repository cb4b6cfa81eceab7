"""One use case, one transaction: the change, its audit event and its mail commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import scoped_session

from portal.extensions import db


@contextmanager
def transaction() -> Iterator[scoped_session]:
    """After the commit, what the use case wrote stays readable without the database (the objects are not
    expired): once a change is committed, nothing in the request may turn its success into a 5xx, not even a
    database that went away a moment later (issue 11, finding 6: a committed booking answered 500 because the
    view read `booking.reference`, which reloaded it)."""
    try:
        yield db.session
        _commit_keeping_state()
    except BaseException:
        db.session.rollback()
        raise


def _commit_keeping_state() -> None:
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
