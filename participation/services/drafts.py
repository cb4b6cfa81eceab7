"""A consultation's draft text (a statute, a plan), put up for comment paragraph by paragraph.

Its managers paste the whole text; blank lines separate the paragraphs, and a paragraph whose first line starts
with "§ 3" or "Art. 2" / "Artikel 2" takes that as its number and the rest of the line as its heading (a line
that stands alone, like "§ 1 Geltungsbereich", heads the paragraph after it). The text may change until
commenting it begins: while the consultation is a draft, and after publishing as long as no phase that opens
"comment_draft" has started and nobody has commented. Saving replaces all paragraphs.

Participants comment on a paragraph through participation.services.comments (`paragraph_id=`), in a phase that
opens "comment_draft"; each paragraph counts its published comments (`comment_count`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import Comment, Consultation
from participation.models_surveys import (
    PARAGRAPH_HEADING_MAX,
    PARAGRAPH_NUMBER_MAX,
    PARAGRAPH_TEXT_MAX,
    DraftParagraph,
)
from participation.services.common import check_changeable, managed_consultation, visible_consultation
from participation.services.surveys import opens_later
from participation.text import plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.transaction import transaction

DRAFT_MAX = 200_000
PARAGRAPHS_MAX = 500
_NUMBERED = re.compile(r"^(§{1,2}\s*\d+[a-z]?|Art\.\s*\d+[a-z]?|Artikel\s+\d+[a-z]?)\.?(?:\s+(.*))?$")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class ParagraphText:
    """One paragraph as the editor reads it from the pasted text."""

    number: str | None
    heading: str | None
    text: str


def _too_long(position: int, what: str, limit: int) -> ParticipationError:
    return ParticipationError(
        "text",
        _l(
            "Absatz %(n)s: %(what)s ist zu lang (höchstens %(limit)s Zeichen).",
            n=position,
            what=what,
            limit=f"{limit:,}".replace(",", "."),
        ),
        "too_long",
    )


def split_draft(text: str) -> list[ParagraphText]:
    """The paragraphs of a pasted draft (see the module's description); ParticipationError on field "text" when
    it is too long or has too many paragraphs."""
    whole = plain_text(text, "text", DRAFT_MAX, required=False)
    found: list[ParagraphText] = []
    heading_only: ParagraphText | None = None
    for block in _BLANK_LINES.split(whole):
        lines = [line.strip() for line in block.strip().split("\n")]
        if not lines[0]:
            continue
        match = _NUMBERED.match(lines[0])
        if match:
            if heading_only is not None:
                found.append(heading_only)
            number = " ".join(match.group(1).split())
            paragraph = ParagraphText(number, match.group(2) or None, "\n".join(lines[1:]).strip())
            heading_only = paragraph if not paragraph.text else None
            if heading_only is None:
                found.append(paragraph)
            continue
        body = "\n".join(lines)
        if heading_only is not None:
            found.append(ParagraphText(heading_only.number, heading_only.heading, body))
            heading_only = None
        else:
            found.append(ParagraphText(None, None, body))
    if heading_only is not None:
        found.append(heading_only)
    if len(found) > PARAGRAPHS_MAX:
        raise ParticipationError("text", _l("Höchstens %(n)s Absätze.", n=PARAGRAPHS_MAX), "too_many_paragraphs")
    for position, paragraph in enumerate(found, start=1):
        if len(paragraph.number or "") > PARAGRAPH_NUMBER_MAX:
            raise _too_long(position, _l("Die Nummer"), PARAGRAPH_NUMBER_MAX)
        if len(paragraph.heading or "") > PARAGRAPH_HEADING_MAX:
            raise _too_long(position, _l("Die Überschrift"), PARAGRAPH_HEADING_MAX)
        if len(paragraph.text) > PARAGRAPH_TEXT_MAX:
            raise _too_long(position, _l("Der Text"), PARAGRAPH_TEXT_MAX)
    return found


def draft_as_text(paragraphs: list[DraftParagraph]) -> str:
    """The stored paragraphs as the editor shows them again (split_draft reads them back the same)."""
    blocks = []
    for paragraph in paragraphs:
        head = paragraph.title if paragraph.number else ""
        blocks.append("\n".join(part for part in (head, paragraph.text) if part))
    return "\n\n".join(blocks)


def draft_editable(consultation: Consultation, now: datetime | None = None) -> bool:
    """Whether the draft text may still change (nobody can have commented yet; checked again when saving)."""
    return opens_later(consultation, rules.COMMENT_DRAFT, now)


def _has_comments(consultation_id: int) -> bool:
    query = sa.select(Comment.id).where(Comment.consultation_id == consultation_id, Comment.paragraph_id.is_not(None))
    return db.session.scalar(query.limit(1)) is not None


def _paragraphs(consultation_id: int) -> list[DraftParagraph]:
    query = (
        sa.select(DraftParagraph)
        .where(DraftParagraph.consultation_id == consultation_id)
        .order_by(DraftParagraph.position, DraftParagraph.id)
    )
    return list(db.session.scalars(query))


def save_draft(actor: Actor, consultation_id: int, text: str) -> list[DraftParagraph]:
    """Replace the consultation's draft text by `text` (empty: no draft), until commenting it begins."""
    found = split_draft(text)
    with transaction():
        consultation = managed_consultation(actor, consultation_id)
        check_changeable(consultation)
        if not draft_editable(consultation) or _has_comments(consultation.id):
            raise ParticipationError(
                "text",
                _l("Der Entwurf lässt sich nur ändern, bis seine Kommentierung beginnt."),
                "draft_started",
                409,
            )
        db.session.execute(sa.delete(DraftParagraph).where(DraftParagraph.consultation_id == consultation.id))
        paragraphs = [
            DraftParagraph(
                consultation_id=consultation.id, position=position, number=p.number, heading=p.heading, text=p.text
            )
            for position, p in enumerate(found)
        ]
        db.session.add_all(paragraphs)
        audit.record(
            "participation.draft_saved", actor, target=consultation, slug=consultation.slug, paragraphs=len(paragraphs)
        )
    return paragraphs


def list_paragraphs(actor: Actor, consultation_id: int) -> list[DraftParagraph]:
    """The draft's paragraphs in order, with their comment counts (one query)."""
    consultation = visible_consultation(actor, consultation_id)
    return _paragraphs(consultation.id)


def get_paragraph(actor: Actor, consultation_id: int, paragraph_id: int) -> DraftParagraph:
    """One paragraph of the consultation's draft (404 if it belongs to another or does not exist)."""
    consultation = visible_consultation(actor, consultation_id)
    paragraph = db.session.get(DraftParagraph, paragraph_id)
    if paragraph is None or paragraph.consultation_id != consultation.id:
        raise NotFound()
    return paragraph
