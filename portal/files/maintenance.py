"""For operators: compare database and storage (`flask files check`), and remove what was left behind.

The names are importable from portal.files.services.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO

import sqlalchemy as sa

from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.storage import CHUNK, get_storage
from portal.timeutil import utcnow


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
