"""Stored files: take an upload in, decide who may read it, hand it out, and forget it when asked.

The flow for a service author:

    SITE_PLAN = UploadPolicy(max_bytes=20 * MB, allowed_types={"application/pdf"}, max_pdf_pages=20)
    stored = store_upload(actor, form.site_plan.data, SITE_PLAN, purpose="permits.site_plan", field="site_plan")

`store_upload` commits on its own (the upload is then the person's file, whatever happens next). A service that
wants the file and its own change in one transaction uses `check_upload` first, then `add_upload` inside its
`with transaction():`; the stored object is removed again if that transaction does not commit.

Storage and database cannot share a transaction, so the order is chosen to fail safe: new objects are written
before the commit and removed if it fails; erased objects are removed only after the commit succeeded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any, Protocol

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

import portal.files.actions  # noqa: F401  (declares the audit actions recorded here)
from portal.accounts.models import OrganisationMember
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.files.content import inspect, label_of
from portal.files.errors import FileError, FileNotFound
from portal.files.models import StoredFile
from portal.files.policy import KNOWN_TYPES, UploadPolicy
from portal.files.storage import CHUNK, Storage, StorageError, get_storage, new_storage_key
from portal.timeutil import utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_.]{0,30}$")  # fits stored_file.purpose
SPOOL_IN_MEMORY = 1024 * 1024
MAX_NAME_STEM = 150
EXTENSION_RE = re.compile(r"\.[a-z][a-z0-9]{0,4}")


class Upload(Protocol):
    """What a form or API hands over: Werkzeug's FileStorage fits; so does anything with these two."""

    filename: str | None
    stream: IO[bytes]


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


# --- taking a file in ------------------------------------------------------------------------------------------


@dataclass
class CheckedUpload:
    """An upload that passed its policy, held in a temporary file until stored. Close it (or use `with`)."""

    data: IO[bytes]
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    page_count: int | None = None
    width: int | None = None
    height: int | None = None
    field: str = "file"

    def close(self) -> None:
        self.data.close()

    def __enter__(self) -> CheckedUpload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _required(field: str) -> FileError:
    return FileError(field, _("Bitte wählen Sie eine Datei aus."), "required")


def _spool(upload: Upload, policy: UploadPolicy, field: str) -> tuple[IO[bytes], int, str]:
    """Copy the upload into our own temporary file, counting and hashing, and stop once it is too large."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - handed on
    digest = hashlib.sha256()
    size = 0
    stream = upload.stream
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        stream.seek(0)  # a form validator (Flask-WTF's FileSize) may have read it already
    try:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > policy.max_bytes:
                raise FileError(
                    field,
                    _(
                        "Die Datei ist zu groß. Erlaubt sind höchstens %(max)s MB; bitte verkleinern Sie sie "
                        "(zum Beispiel mit geringerer Auflösung scannen).",
                        max=policy.max_mb,
                    ),
                    "too_large",
                )
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, digest.hexdigest()


def _split_name(raw: str | None) -> tuple[str, str]:
    """The stem and lower-case extension of a browser-sent name, without any folder part."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    # Drop control and format characters: a right-to-left override can make "gpj.exe" read as "exe.jpg".
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    stem, ext = os.path.splitext(name)
    if not EXTENSION_RE.fullmatch(ext.lower()):  # "Plan v2.1" has no extension, ".1" is part of the name
        return name, ""
    return stem, ext.lower()


def display_name(raw: str | None, content_type: str) -> str:
    """The name offered on download: the person's own, cleaned, with the extension that fits the content."""
    stem, ext = _split_name(raw)
    file_type = KNOWN_TYPES[content_type]
    stem = stem[:MAX_NAME_STEM].strip(" .") or _("Datei")
    return stem + (ext if ext in file_type.extensions else file_type.extensions[0])


def check_upload(upload: Upload | None, policy: UploadPolicy, *, field: str = "file") -> CheckedUpload:
    """Read the upload (up to the policy's size), find out what it is, and refuse what the policy does not allow.

    Raises FileError carrying `field`, a German message that names the allowed types and limits, and a code.
    """
    if upload is None or not (upload.filename or "").strip():
        raise _required(field)
    data, size, sha256 = _spool(upload, policy, field)
    try:
        if size == 0:
            raise FileError(field, _("Die ausgewählte Datei ist leer. Bitte wählen Sie eine andere Datei."), "empty")
        found = inspect(data, policy, field=field)
        ext = _split_name(upload.filename)[1]
        if ext and ext not in KNOWN_TYPES[found.content_type].extensions:
            raise FileError(
                field,
                _(
                    "Der Dateiname endet auf „%(ext)s“, der Inhalt ist aber %(type)s. Bitte laden Sie eine Datei "
                    "hoch, deren Name zu ihrem Inhalt passt (erlaubt: %(types)s).",
                    ext=ext,
                    type=label_of(found.content_type),
                    types=policy.type_labels,
                ),
                "extension_mismatch",
            )
    except FileError as error:
        data.close()
        log.info("upload refused: %s", error.code, extra={"code": error.code, "size": size})
        raise
    except BaseException:
        data.close()
        raise
    return CheckedUpload(
        data=data,
        filename=display_name(upload.filename, found.content_type),
        content_type=found.content_type,
        size_bytes=size,
        sha256=sha256,
        page_count=found.page_count,
        width=found.width,
        height=found.height,
        field=field,
    )


def _owners(actor: Actor, owner_user_id: int | None, organisation_id: int | None) -> tuple[int | None, int | None]:
    if owner_user_id is not None or organisation_id is not None:
        return owner_user_id, organisation_id
    if actor.organisation_id is not None:
        # Uploaded while acting for a business: the business's file, kept when this member leaves or is erased.
        return None, actor.organisation_id
    return (actor.user.id if actor.user is not None else None), None


def add_upload(
    actor: Actor,
    checked: CheckedUpload,
    *,
    purpose: str,
    owner_user_id: int | None = None,
    organisation_id: int | None = None,
) -> StoredFile:
    """Store a checked upload and record it, inside the caller's `with transaction():`.

    Without `owner_user_id`/`organisation_id` the file belongs to the actor (or the business they act for).
    Call it before your own audit.record, so the copy to storage does not happen while the audit chain is locked.
    """
    if not PURPOSE_RE.fullmatch(purpose):
        raise ValueError(f"purpose {purpose!r} must look like '<service>.<use>'")
    owner_user_id, organisation_id = _owners(actor, owner_user_id, organisation_id)
    storage = get_storage()
    storage_key = new_storage_key()
    checked.data.seek(0)
    try:
        storage.put(storage_key, checked.data, checked.content_type)
    except (StorageError, OSError) as error:
        log.error("file storage failed: %s", error, extra={"backend": storage.name})
        raise FileError(
            checked.field,
            _("Die Datei konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einigen Minuten erneut."),
            "storage_unavailable",
        ) from error
    _on_rollback_delete(storage, storage_key)
    stored = StoredFile(
        key=secrets.token_urlsafe(32),
        storage_key=storage_key,
        filename=checked.filename,
        content_type=checked.content_type,
        size_bytes=checked.size_bytes,
        sha256=checked.sha256,
        page_count=checked.page_count,
        width=checked.width,
        height=checked.height,
        purpose=purpose,
        owner_user_id=owner_user_id,
        organisation_id=organisation_id,
        uploaded_by_id=actor.user.id if actor.user is not None else None,
    )
    db.session.add(stored)
    audit.record(
        "file.uploaded",
        actor,
        target=stored,
        subject_user_id=owner_user_id,
        purpose=purpose,
        content_type=checked.content_type,
        size=checked.size_bytes,
    )
    return stored


def store_upload(
    actor: Actor,
    upload: Upload | None,
    policy: UploadPolicy,
    *,
    purpose: str,
    field: str = "file",
    owner_user_id: int | None = None,
    organisation_id: int | None = None,
) -> StoredFile:
    """Check an upload against `policy`, store it and record it, in one transaction of its own.

    Raises FileError (show it next to `field`, or answer 422 via `error.to_problem()`).
    """
    with check_upload(upload, policy, field=field) as checked, transaction():
        return add_upload(actor, checked, purpose=purpose, owner_user_id=owner_user_id, organisation_id=organisation_id)


# --- keeping storage and database in step ----------------------------------------------------------------------

_PUT = "stadtportal_files_put"
_DELETE = "stadtportal_files_delete"


def _on_rollback_delete(storage: Storage, key: str) -> None:
    db.session().info.setdefault(_PUT, []).append((storage, key))


def _after_commit_delete(storage: Storage, key: str) -> None:
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
    _after_commit_delete(get_storage(), stored.storage_key)
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
        _after_commit_delete(storage, row.storage_key)
    audit.record("file.erased", actor, subject_user_id=user_id, count=len(rows))
    return len(rows)


def erase_files_of_user(actor: Actor, user_id: int, *, except_purposes: Collection[str] = ()) -> int:
    """`discard_files_of_user` in a transaction of its own."""
    with transaction():
        return discard_files_of_user(actor, user_id, except_purposes=except_purposes)


# --- operators -------------------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    checked: int = 0
    missing: list[int] = field(default_factory=list)  # stored_file ids whose object is gone
    corrupt: list[int] = field(default_factory=list)  # ids whose content no longer matches its sha256
    erased_left: list[str] = field(default_factory=list)  # storage keys of erased files still present
    orphans: list[str] = field(default_factory=list)  # objects no row knows (older than the grace period)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.erased_left or self.orphans)


def _sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    with stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_storage(*, verify_hashes: bool = True, orphan_grace: timedelta = timedelta(hours=1)) -> CheckReport:
    """Compare database and storage: objects missing or altered, erased content left behind, unknown objects.

    An object without a row is only reported once older than `orphan_grace`: a younger one may belong to an
    upload whose transaction has not committed yet.
    """
    storage = get_storage()
    report = CheckReport()
    known: set[str] = set()
    # Plain tuples, not ORM objects: the table may be large and the identity map would keep every row.
    rows = db.session.execute(
        sa.select(StoredFile.id, StoredFile.storage_key, StoredFile.sha256, StoredFile.deleted_at).order_by(
            StoredFile.id
        )
    )
    for file_id, storage_key, sha256, deleted_at in rows:
        known.add(storage_key)
        if deleted_at is not None:
            if storage.exists(storage_key):
                report.erased_left.append(storage_key)
            continue
        report.checked += 1
        if not verify_hashes:
            if not storage.exists(storage_key):
                report.missing.append(file_id)
            continue
        try:
            actual = _sha256_of(storage.open(storage_key))
        except FileNotFoundError:
            report.missing.append(file_id)
            continue
        if actual != sha256:
            report.corrupt.append(file_id)
    cutoff = utcnow() - orphan_grace
    report.orphans = [key for key, written in storage.listing() if key not in known and written < cutoff]
    return report


def purge(report: CheckReport) -> int:
    """Delete what `check_storage` found left behind: content of erased files and objects without a row."""
    storage = get_storage()
    for key in [*report.erased_left, *report.orphans]:
        storage.delete(key)
    return len(report.erased_left) + len(report.orphans)
