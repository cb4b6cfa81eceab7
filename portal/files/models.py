"""Stored files: what the storage backend keeps, described by what its content is, not by what a name claims.

The object in storage is named by `storage_key` (random, never shown); the public download address uses `key`
(random, unguessable, distinct from the id and from the storage name). The person's own file name is kept only to
offer it back on download, sanitised. Erasure removes the content and the name; the row stays as a tombstone so
links and case files say "deleted" instead of breaking.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class StoredFile(Model):
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)  # public, in download addresses
    storage_key: Mapped[str] = mapped_column(sa.String(128), unique=True)  # the backend's object name
    filename: Mapped[str] = mapped_column(sa.String(200))  # sanitised display name; "" once erased
    content_type: Mapped[str] = mapped_column(sa.String(100))  # sniffed from the content
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    page_count: Mapped[int | None] = mapped_column()  # PDFs
    width: Mapped[int | None] = mapped_column()  # images, in pixels
    height: Mapped[int | None] = mapped_column()
    # "<service>.<use>", e.g. permits.site_plan: says which service owns the file and whose access rule applies.
    purpose: Mapped[str] = mapped_column(sa.String(64), index=True)
    # Whose file it is: a person, or a business (then any member may read it and it survives a member's erasure).
    owner_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("size_bytes >= 0", name="size"),
        sa.CheckConstraint("page_count is null or page_count >= 0", name="pages"),
        sa.CheckConstraint("(width is null and height is null) or (width > 0 and height > 0)", name="dimensions"),
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.purpose} {self.content_type} {self.size_bytes}B>"
