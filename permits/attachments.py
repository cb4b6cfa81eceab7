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
