"""Keeping storage and database in step: they cannot share a transaction, so the order is chosen to fail safe.

New objects are written before the commit and removed again if the outermost transaction does not commit
(`delete_on_rollback`); erased objects are removed only after the commit succeeded (`delete_after_commit`).
A delete that fails leaves an object behind, which `flask files check` finds (portal.files.maintenance).
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.extensions import db
from portal.files.storage import Storage

log = logging.getLogger(__name__)

_PUT = "stadtportal_files_put"
_DELETE = "stadtportal_files_delete"


def delete_on_rollback(storage: Storage, key: str) -> None:
    """Remove this new object again unless the current outermost transaction commits."""
    db.session().info.setdefault(_PUT, []).append((storage, key))


def delete_after_commit(storage: Storage, key: str) -> None:
    """Remove this object once the current transaction has committed (and keep it if it rolls back)."""
    db.session().info.setdefault(_DELETE, []).append((storage, key))


def _delete_quietly(storage: Storage, key: str, why: str) -> None:
    try:
        storage.delete(key)
    except Exception:  # the commit already decided; a leftover object is found by `flask files check`
        log.exception("could not delete stored object (%s)", why, extra={"storage_key": key})


def _committed(session: Session) -> None:
    session.info.pop(_PUT, None)
    for storage, key in session.info.pop(_DELETE, []):
        _delete_quietly(storage, key, "after commit")


def _ended(session: Session, transaction_: SessionTransaction) -> None:
    if transaction_.parent is not None:
        return
    # Still listed after the outermost transaction ended: it was not committed, so its new objects must go.
    for storage, key in session.info.pop(_PUT, []):
        _delete_quietly(storage, key, "transaction not committed")
    session.info.pop(_DELETE, None)


if not event.contains(Session, "after_commit", _committed):
    event.listen(Session, "after_commit", _committed)
    event.listen(Session, "after_transaction_end", _ended)
