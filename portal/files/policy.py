"""What one use of an upload accepts: which types, how large, how many pages or pixels.

Each service declares a policy per form field (a site plan is not a profile photo) and passes it to
`store_upload`; the form macro reads the same policy to tell people the rules before they choose a file.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from flask_babel import gettext as _

MB = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    mime: str
    label: str  # what people call it
    extensions: tuple[str, ...]  # the first is used when a name has none


# The types the portal knows how to check by parsing, not only by their first bytes.
KNOWN_TYPES: dict[str, FileType] = {
    "application/pdf": FileType("application/pdf", "PDF", (".pdf",)),
    "image/png": FileType("image/png", "PNG", (".png",)),
    "image/jpeg": FileType("image/jpeg", "JPEG", (".jpg", ".jpeg")),
}


@dataclass(frozen=True)
class UploadPolicy:
    """Limits for one kind of upload. Pages apply to PDFs, pixels (width × height) to images."""

    max_bytes: int = 10 * MB
    allowed_types: Collection[str] = frozenset(KNOWN_TYPES)
    max_pdf_pages: int = 50
    max_image_pixels: int = 40_000_000

    def __post_init__(self) -> None:
        types = frozenset(self.allowed_types)
        unknown = types - KNOWN_TYPES.keys()
        if unknown:
            raise ValueError(f"no content check for {sorted(unknown)}; known: {sorted(KNOWN_TYPES)}")
        if not types or self.max_bytes <= 0 or self.max_pdf_pages <= 0 or self.max_image_pixels <= 0:
            raise ValueError("an upload policy needs at least one type and positive limits")
        object.__setattr__(self, "allowed_types", types)

    @property
    def types(self) -> list[FileType]:
        return [t for mime, t in KNOWN_TYPES.items() if mime in self.allowed_types]

    @property
    def accept(self) -> str:
        """For the input's accept attribute: extensions and types, so every browser's file picker filters."""
        return ",".join([ext for t in self.types for ext in t.extensions] + [t.mime for t in self.types])

    @property
    def max_mb(self) -> str:
        return format_mb(self.max_bytes)

    @property
    def type_labels(self) -> str:
        """ "PDF, PNG oder JPEG" (translated joiner)."""
        labels = [t.label for t in self.types]
        if len(labels) == 1:
            return labels[0]
        return _("%(list)s oder %(last)s", list=", ".join(labels[:-1]), last=labels[-1])

    @property
    def max_megapixels(self) -> str:
        return _format_number(self.max_image_pixels / 1_000_000)


def _format_number(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")  # German decimal comma; the English pages read it fine for whole numbers


def format_mb(size: int) -> str:
    return _format_number(size / MB)


# Ready-made policies for the common cases; a service may define its own.
DOCUMENT = UploadPolicy(max_bytes=20 * MB, max_pdf_pages=100)  # forms, plans, certificates
PHOTO = UploadPolicy(max_bytes=10 * MB, allowed_types=("image/png", "image/jpeg"), max_image_pixels=40_000_000)
PDF_ONLY = UploadPolicy(max_bytes=20 * MB, allowed_types=("application/pdf",), max_pdf_pages=100)
