"""What a PDF document says: a title, a language and a list of blocks, with no layout in it.

Callers pass texts already translated (flask_babel in the caller, e.g. under `force_locale(document language)`);
the renderer only adds its own few fixed words (page numbers, "created on") in the document's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Heading:
    """A section heading; level 2 under the document's title (level 1), 3 below that."""

    kind: ClassVar[str] = "heading"  # every block has a kind, so templates can tell them apart
    text: str
    level: int = 2

    def __post_init__(self) -> None:
        if self.level not in (2, 3):
            raise ValueError("Heading.level must be 2 or 3 (the document's title is the only level 1)")


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: str


@dataclass(frozen=True)
class KeyValues:
    """Label and value pairs (like an HTML description list), drawn as a two-column table with row headers."""

    kind: ClassVar[str] = "key_values"
    rows: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    """A table with one header row; `widths` are relative column widths (equal when omitted)."""

    kind: ClassVar[str] = "table"
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None

    def __post_init__(self) -> None:
        if any(len(row) != len(self.header) for row in self.rows):
            raise ValueError("every Table row needs as many cells as the header")
        if self.widths is not None and len(self.widths) != len(self.header):
            raise ValueError("Table.widths needs one width per column")


@dataclass(frozen=True)
class SmallPrint:
    """Notes in smaller type: legal remarks, "Rechtsbehelfsbelehrung" pointers, data protection hints."""

    kind: ClassVar[str] = "small_print"
    text: str


Block = Heading | Paragraph | KeyValues | Table | SmallPrint


@dataclass(frozen=True)
class Document:
    """A decision, receipt or report. `reference` (e.g. "T-2026-000123") is shown under the title.

    `department` and `address` complete the city's letterhead (the city's name comes from CITY_NAME unless
    `city` is given); `generated_at` defaults to now and is shown in the footer in Berlin time.
    """

    title: str
    language: str = "de"
    blocks: Sequence[Block] = field(default_factory=list)
    reference: str | None = None
    subject: str | None = None
    city: str | None = None
    department: str | None = None
    address: str | None = None
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"Document.language must be one of {LANGUAGES}, not {self.language!r}")
        if not self.title.strip():
            raise ValueError("a document needs a title (PDF/UA: the title identifies it to assistive technology)")
