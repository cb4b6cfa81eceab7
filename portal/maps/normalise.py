"""Street names folded for matching, and a typed address split into street, house number and postcode.

"Hauptstraße 12", "Hauptstr. 12a", "hauptstrasse 12, 01067" and "HAUPTSTRASSE 12 01067 Musterstadt" all
become street key "hauptstrasse", number 12 (suffix "a" kept in the house number), postcode "01067".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_ADDRESS_LENGTH = 200

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
# Abbreviations people type for the usual endings: "Hauptstr.", "Rathauspl.", "St.-Petri-Platz".
_ABBREVIATIONS = [
    (re.compile(r"str(?![a-z])\.?"), "strasse"),
    (re.compile(r"pl(?![a-z])\.?"), "platz"),
    (re.compile(r"(?<![a-z])st(?![a-z])\.?"), "sankt"),
]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
# The house number at the end: "12", "12a", "12 a", "12-14", "12/1". The street part must end in a non-digit,
# so "Straße des 17. Juni" keeps its 17.
_STREET_AND_NUMBER = re.compile(
    r"^(?P<street>.*?[^\d\s])\s*(?P<number>\d{1,4})\s*(?P<suffix>[a-zA-Z](?![a-zA-Z]))?"
    r"(?:\s*[-–/]\s*\d{1,4}\s*[a-zA-Z]?)?\s*$"
)


def clean(text: str, limit: int = MAX_ADDRESS_LENGTH) -> str:
    """Drop control characters (NUL included), collapse white space, cap the length."""
    text = _CONTROL.sub(" ", text or "")
    return " ".join(text.split())[:limit]


def fold(text: str) -> str:
    """Lower case, umlauts and ß spelled out, other accents removed: "Königsbrücker" → "koenigsbruecker"."""
    text = unicodedata.normalize("NFC", text).lower().translate(_UMLAUTS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def street_key(name: str) -> str:
    """The key streets are matched by: "Dr.-Külz-Ring" → "drkuelzring", "Berliner Str." → "berlinerstrasse"."""
    text = fold(clean(name))
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass(frozen=True)
class ParsedAddress:
    street: str
    house_number: str | None = None  # as written, normalised: "12a"
    number: int | None = None  # its numeric part, for ranges and interpolation
    postcode: str | None = None

    @property
    def key(self) -> str:
        return street_key(self.street)


def parse_address(text: str) -> ParsedAddress:
    """Split "Hauptstraße 12a, 01067 Musterstadt" into its parts; what is not there stays None."""
    text = clean(text)
    postcode = None
    match = _POSTCODE.search(text)
    if match:
        postcode = match.group(1)
        segments = [segment.strip() for segment in text.split(",")]
        if len(segments) > 1:
            # "Hauptstraße 12, 01067 Musterstadt" or "01067 Musterstadt, Hauptstraße 12": drop the town's segment.
            rest = [segment for segment in segments if not _POSTCODE.search(segment)]
            text = rest[0] if rest else ""
        else:
            # "Hauptstraße 12 01067 Musterstadt": the street comes before the postcode.
            text = text[: match.start()].strip()
    else:
        text = text.split(",")[0].strip()
    found = _STREET_AND_NUMBER.match(text)
    if not found:
        return ParsedAddress(street=text, postcode=postcode)
    number = int(found.group("number"))
    suffix = (found.group("suffix") or "").lower()
    return ParsedAddress(
        street=found.group("street").strip(" ,"),
        house_number=f"{number}{suffix}",
        number=number,
        postcode=postcode,
    )
