"""Stored files: decide who may read them, hand them out, and forget them when asked.

A service lets people beyond a file's owner read it with `register_access_rule` (from its register(app)); such
a read is audited with the owner as its subject, so the citizen finds it in their own log. Deleting marks the
row and removes the content only once the transaction has committed (portal.files.storage_sync).

Taking a file in (`check_upload`, `add_upload`, `store_upload`) lives in portal.files.uploads, the operators'
check and purge in portal.files.maintenance; those names are importable here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import IO, Any

import sqlalchemy as sa
from flask import url_for

import portal.files.actions  # noqa: F401  (declares the audit actions recorded here)
from portal.accounts.models import OrganisationMember
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.files.errors import FileNotFound
from portal.files.maintenance import CheckReport, check_storage, purge  # noqa: F401  (re-exported for the CLI)
from portal.files.models import StoredFile
from portal.files.storage import get_storage
from portal.files.storage_sync import delete_after_commit
from portal.files.uploads import (  # re-exported: portal.files and its callers import them here
    PURPOSE_RE,
    CheckedUpload,  # noqa: F401
    Upload,  # noqa: F401
    add_upload,  # noqa: F401
    check_upload,  # noqa: F401
    display_name,  # noqa: F401
    store_upload,  # noqa: F401
)
from portal.timeutil import utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

AccessCheck = Callable[[Actor, StoredFile], bool]
_ACCESS_RULES: dict[str, AccessCheck] = {}


def register_access_rule(purpose: str, rule: AccessCheck) -> None:
    """Let `rule(actor, stored_file)` grant reading files of this purpose beyond their owner (e.g. the clerks of
    the department handling the case). Call it from the service's register(app). Reads granted by a rule are
    audited, so the owner sees them in their log."""
    if not PURPOSE_RE.fullmatch(purpose):
        raise ValueError(f"purpose {purpose!r} must look like '<service>.<use>'")
    existing = _ACCESS_RULES.get(purpose)
    if existing is not None and _identity(existing) != _identity(rule):
        raise ValueError(f"purpose {purpose!r} already has an access rule ({_identity(existing)})")
    _ACCESS_RULES[purpose] = rule


def _identity(rule: AccessCheck) -> str:
    # The same rule registered again by a second app (tests build many) is a new object but the same code.
    return f"{getattr(rule, '__module__', '')}.{getattr(rule, '__qualname__', repr(rule))}"


# --- reading ---------------------------------------------------------------------------------------------------


def _active(key: str) -> StoredFile | None:
    if not key or len(key) > 64:
        return None
    return db.session.scalar(sa.select(StoredFile).where(StoredFile.key == key, StoredFile.deleted_at.is_(None)))


def _owner_side(actor: Actor, stored: StoredFile) -> bool:
    """The owner, or a member of the owning business: reads by them are their own business, not audited."""
    user = actor.user
    if user is None:
        return False
    if stored.owner_user_id is not None and stored.owner_user_id == user.id:
        return True
    if stored.organisation_id is not None:
        member = db.session.scalar(
            sa.select(OrganisationMember.id).where(
                OrganisationMember.organisation_id == stored.organisation_id, OrganisationMember.user_id == user.id
            )
        )
        return member is not None
    return False


def can_read(actor: Actor, stored: StoredFile) -> bool:
    if stored.deleted_at is not None:
        return False
    if _owner_side(actor, stored):
        return True
    rule = _ACCESS_RULES.get(stored.purpose)
    return bool(rule is not None and rule(actor, stored))


def get_file(actor: Actor, key: str) -> StoredFile:
    """A stored file the actor may read (its description, not its content). FileNotFound otherwise."""
    stored = _active(key)
    if stored is None or not can_read(actor, stored):
        raise FileNotFound(key)
    return stored


def open_for_download(actor: Actor, key: str) -> tuple[StoredFile, IO[bytes]]:
    """The file and an open stream of its content, for someone allowed to read it; the caller closes the stream.

    A read by anyone but the owner (a clerk via the purpose's access rule) is recorded, with the owner as its
    subject, so the citizen finds it in their own log.
    """
    stored = get_file(actor, key)
    try:
        stream = get_storage().open(stored.storage_key)
    except FileNotFoundError:
        log.error("stored object missing", extra={"stored_file_id": stored.id})
        raise FileNotFound(key) from None
    if not _owner_side(actor, stored):
        try:
            with transaction():
                audit.record(
                    "file.downloaded",
                    actor,
                    target=stored,
                    subject_user_id=stored.owner_user_id,
                    purpose=stored.purpose,
                )
        except BaseException:
            stream.close()
            raise
    return stored, stream


def open_stored(stored: StoredFile) -> IO[bytes]:
    """An open stream of a file's content, without an access check or an audit event; the caller closes it.

    For a service that has decided itself that the content is public (participation shows the image of a
    published proposal to everyone): such a view is no read of personal data to record. FileNotFound if the file
    is deleted or its object is gone.
    """
    if stored.deleted_at is not None:
        raise FileNotFound(stored.key)
    try:
        return get_storage().open(stored.storage_key)
    except FileNotFoundError:
        log.error("stored object missing", extra={"stored_file_id": stored.id})
        raise FileNotFound(stored.key) from None


def download_url(stored: StoredFile | str, **kwargs: Any) -> str:
    """The access-checked download address of a stored file (or of its public key)."""
    key = stored if isinstance(stored, str) else stored.key
    return url_for("files.download", key=key, **kwargs)


# --- deleting --------------------------------------------------------------------------------------------------


def _may_delete(actor: Actor, stored: StoredFile) -> bool:
    return actor.kind == "system" or _owner_side(actor, stored)


def discard_file(actor: Actor, stored: StoredFile) -> None:
    """Delete a file inside the caller's transaction (e.g. a replaced site plan). Owner or system only.

    The content goes once the transaction commits; the row stays, without its name, as a tombstone.
    """
    if stored.deleted_at is not None:
        return
    if not _may_delete(actor, stored):
        raise FileNotFound(stored.key)
    stored.deleted_at = utcnow()
    stored.filename = ""
    delete_after_commit(get_storage(), stored.storage_key)
    audit.record("file.deleted", actor, target=stored, subject_user_id=stored.owner_user_id, purpose=stored.purpose)


def delete_file(actor: Actor, key: str) -> None:
    """Delete one stored file in a transaction of its own. FileNotFound if unknown or not the actor's."""
    with transaction():
        stored = _active(key)
        if stored is None:
            raise FileNotFound(key)
        discard_file(actor, stored)


# --- GDPR: called by the data-protection hooks ---------------------------------------------------------------


def files_of_user(user_id: int) -> list[dict[str, Any]]:
    """A person's own stored files for their data export (content not included): name, type, size, when, why."""
    rows = db.session.scalars(
        sa.select(StoredFile)
        .where(StoredFile.owner_user_id == user_id, StoredFile.deleted_at.is_(None))
        .order_by(StoredFile.created_at, StoredFile.id)
    )
    return [
        {
            "name": row.filename,
            "type": row.content_type,
            "size": row.size_bytes,
            "uploaded_at": row.created_at.isoformat(),
            "purpose": row.purpose,
        }
        for row in rows
    ]


def discard_files_of_user(actor: Actor, user_id: int, *, except_purposes: Collection[str] = ()) -> int:
    """Erase a person's own files inside the caller's transaction (the account deletion's); returns how many.

    Rows lose their name and are marked deleted; the content leaves storage once that transaction commits (and
    stays if it rolls back). Business files (uploaded while acting for one) are the business's and stay.
    `except_purposes` keeps files a service must retain by law; the caller decides that, not this function.
    """
    query = sa.select(StoredFile).where(StoredFile.owner_user_id == user_id, StoredFile.deleted_at.is_(None))
    if except_purposes:
        query = query.where(StoredFile.purpose.not_in(list(except_purposes)))
    rows = list(db.session.scalars(query))
    storage = get_storage()
    now = utcnow()
    for row in rows:
        row.deleted_at = now
        row.filename = ""
        delete_after_commit(storage, row.storage_key)
    audit.record("file.erased", actor, subject_user_id=user_id, count=len(rows))
    return len(rows)


def erase_files_of_user(actor: Actor, user_id: int, *, except_purposes: Collection[str] = ()) -> int:
    """`discard_files_of_user` in a transaction of its own."""
    with transaction():
        return discard_files_of_user(actor, user_id, except_purposes=except_purposes)
