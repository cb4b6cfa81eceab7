"""The kinds of document an application may carry, and what an upload of each kind accepts.

A use type lists the kinds it requires (`UseType.required_attachments`); validation compares them with the
kinds attached. Stored files carry the purpose "permits.<kind>" (portal.files), which says whose access rule
applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.files.policy import MB, UploadPolicy

_DOCUMENTS = UploadPolicy(max_bytes=10 * MB, max_pdf_pages=30)
_PHOTOS = UploadPolicy(max_bytes=10 * MB, allowed_types={"image/png", "image/jpeg"})


@dataclass(frozen=True)
class AttachmentKind:
    code: str
    label: Any  # lazy German text
    policy: UploadPolicy

    @property
    def purpose(self) -> str:
        return f"permits.{self.code}"


KINDS: dict[str, AttachmentKind] = {
    kind.code: kind
    for kind in (
        AttachmentKind("site_plan", _l("Lageplan"), _DOCUMENTS),
        AttachmentKind("traffic_sign_plan", _l("Verkehrszeichenplan"), _DOCUMENTS),
        AttachmentKind("photo", _l("Foto der Fläche"), _PHOTOS),
        AttachmentKind("liability_insurance", _l("Nachweis der Haftpflichtversicherung"), _DOCUMENTS),
        AttachmentKind("exemption_proof", _l("Nachweis für die Gebührenbefreiung"), _DOCUMENTS),
    )
}


def label(kind: str) -> str:
    found = KINDS.get(kind)
    return str(found.label) if found else kind


def clerk_may_read(actor: Any, stored: Any) -> bool:
    """portal.files access rule: a permit clerk of the case's department reads the documents attached to it (the
    read is audited by portal.files with the applicant as subject, so they see it in their log)."""
    import sqlalchemy as sa

    from permits.models import PermitApplication, PermitAttachment
    from permits.rules import is_officer
    from portal.extensions import db

    application = db.session.scalar(
        sa.select(PermitApplication)
        .join(PermitAttachment, PermitAttachment.application_id == PermitApplication.id)
        .where(PermitAttachment.file_key == stored.key)
    )
    return application is not None and application.state != "draft" and is_officer(actor, application)


def register_access_rules() -> None:
    from portal.files import register_access_rule

    for kind in KINDS.values():
        register_access_rule(kind.purpose, clerk_may_read)
