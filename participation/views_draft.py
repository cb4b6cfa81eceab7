"""The participants' pages for a draft text: all its paragraphs with their comment counts, and one paragraph with
its comments (paged by cursor like every thread) and the form to comment on it while a phase opens
"comment_draft". Replies and edits use the ordinary comment pages (participation.views_public, views_contribute).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for

from participation import rules
from participation.errors import ParticipationError
from participation.forms import CommentForm
from participation.models import Consultation
from participation.models_surveys import DraftParagraph
from participation.services import comments, consultations, drafts
from participation.views_contribute import _to_comment, _write_comment
from participation.views_public import comment_form_for, thread_options
from portal import access
from portal.actors import current_actor

bp = Blueprint("participation_draft", __name__)


@bp.get("/beteiligung/<slug>/entwurf")
@access.public
def draft(slug: str):
    actor = current_actor()
    consultation = consultations.get_by_slug(actor, slug)
    return render_template(
        "participation/draft.html",
        consultation=consultation,
        paragraphs=drafts.list_paragraphs(actor, consultation.id),
        refusal=rules.refusal(actor, consultation, rules.COMMENT_DRAFT),
    )


def paragraph_page(
    consultation: Consultation,
    paragraph: DraftParagraph,
    *,
    comment_form: Any = None,
    message: str | None = None,
    status: int = 200,
) -> Any:
    """A paragraph with its comments, the neighbours to walk the draft, and the comment form where open."""
    actor = current_actor()
    try:
        thread = comments.list_comments(
            actor, consultation.id, paragraph_id=paragraph.id, cursor=request.args.get("kommentare")
        )
    except ParticipationError as error:  # a cursor that does not exist
        abort(error.status if error.status == 400 else 404)
    refusal = rules.refusal(actor, consultation, rules.COMMENT_DRAFT)
    here = url_for("participation_draft.paragraph", slug=consultation.slug, paragraph_id=paragraph.id)
    options = thread_options(refusal, here)
    if comment_form is None and options.can_comment:
        comment_form = comment_form_for(actor, consultation)
    paragraphs = drafts.list_paragraphs(actor, consultation.id)
    index = next(i for i, p in enumerate(paragraphs) if p.id == paragraph.id)
    return render_template(
        "participation/draft_paragraph.html",
        consultation=consultation,
        paragraph=paragraph,
        number=index + 1,
        previous=paragraphs[index - 1] if index > 0 else None,
        following=paragraphs[index + 1] if index + 1 < len(paragraphs) else None,
        thread=thread,
        paged=bool(request.args.get("kommentare")),
        options=options,
        refusal=refusal,
        comment_form=comment_form,
        message=message,
    ), status


@bp.get("/beteiligung/<slug>/entwurf/<int:paragraph_id>")
@access.public
def paragraph(slug: str, paragraph_id: int):
    actor = current_actor()
    consultation = consultations.get_by_slug(actor, slug)
    return paragraph_page(consultation, drafts.get_paragraph(actor, consultation.id, paragraph_id))


@bp.post("/beteiligung/<slug>/entwurf/<int:paragraph_id>/kommentieren")
@access.public
def comment(slug: str, paragraph_id: int):
    actor = current_actor()
    consultation = consultations.get_by_slug(actor, slug)
    found = drafts.get_paragraph(actor, consultation.id, paragraph_id)
    form = comment_form_for(actor, consultation, CommentForm)
    written, message, status = _write_comment(form, consultation.id, paragraph_id=found.id)
    if written is not None:
        return _to_comment(written)
    return paragraph_page(consultation, found, comment_form=form, message=message, status=status)
