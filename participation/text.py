"""Text that participants and staff write: one safe HTML subset for a consultation's body, plain text for the rest.

A consultation's body is written by its managers with a little formatting (paragraphs, lists, links,
headings); `clean_html` keeps only that subset (nh3, an allow-list: scripts, event handlers, styles and
`javascript:` links are dropped), so the stored body may be shown with `|safe`. Everything participants write
(proposals, comments, names) is plain text: stored as typed, minus control characters, and escaped by Jinja
wherever it is shown. Never mark a contribution `|safe`.
"""

from __future__ import annotations

import re
from typing import Any

import nh3
from flask_babel import lazy_gettext as _l

from participation.errors import ParticipationError

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
BODY_MAX = 50_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def clean_html(value: Any, field: str = "body", limit: int = BODY_MAX) -> str:
    """The safe subset of `value`'s HTML; links get rel="noopener noreferrer nofollow"."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ParticipationError(field, _l("Geben Sie hier einen Text an."), "invalid_input")
    if len(value) > limit:
        raise ParticipationError(field, _l("Höchstens %(n)s Zeichen.", n=limit), "too_long")
    cleaned = nh3.clean(
        _CONTROL.sub("", value.replace("\r\n", "\n")),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return cleaned.strip()


def plain_text(value: Any, field: str, limit: int, *, required: bool = True, multiline: bool = True) -> str:
    """What a person typed, as plain text: control characters removed, line breaks kept (or collapsed with
    `multiline=False`); ParticipationError (422) when empty but required, too long, or not text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ParticipationError(field, _l("Geben Sie hier einen Text an."), "invalid_input")
    if multiline:
        text = _CONTROL.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
    else:
        text = " ".join(_CONTROL_ONE_LINE.sub(" ", value).split())
    if required and not text:
        raise ParticipationError(field, _l("Dieses Feld darf nicht leer sein."), "required")
    if len(text) > limit:
        raise ParticipationError(field, _l("Höchstens %(n)s Zeichen.", n=limit), "too_long")
    return text


def optional_line(value: Any, field: str, limit: int) -> str | None:
    """One line of optional text; None when empty."""
    return plain_text(value, field, limit, required=False, multiline=False) or None
