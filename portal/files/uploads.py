"""Taking a file in: read an upload, find out what it is, refuse what its policy does not allow, store it.

The flow for a service author:

    SITE_PLAN = UploadPolicy(max_bytes=20 * MB, allowed_types={"application/pdf"}, max_pdf_pages=20)
    stored = store_upload(actor, form.site_plan.data, SITE_PLAN, purpose="permits.site_plan", field="site_plan")

`store_upload` commits on its own (the upload is then the person's file, whatever happens next). A service that
wants the file and its own change in one transaction uses `check_upload` first, then `add_upload` inside its
`with transaction():`; the stored object is removed again if that transaction does not commit (storage_sync).
The names are importable from portal.files and portal.files.services.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass
from typing import IO, Protocol

from flask_babel import gettext as _

import portal.files.actions  # noqa: F401  (declares the audit actions recorded here)
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.files.content import inspect, label_of
from portal.files.errors import FileError
from portal.files.models import StoredFile
from portal.files.policy import KNOWN_TYPES, UploadPolicy
from portal.files.storage import CHUNK, StorageError, get_storage, new_storage_key
from portal.files.storage_sync import delete_on_rollback
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
    delete_on_rollback(storage, storage_key)
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
