"""One use case, one transaction: the change, its audit event and its mail commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import scoped_session

from portal.extensions import db


@contextmanager
def transaction() -> Iterator[scoped_session]:
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
