"""JSON API of participation, under /api/v1/participation.

Reading is public, as the web pages are: consultations (open, upcoming, closed; by district and topic), one
consultation with its phases and what is open, its proposals and comments page by page (cursor pagination:
pass `next_cursor` back as `cursor`), a proposal, a comment and its replies. A signed-in viewer (session cookie)
also sees their own pending contributions, as on the web.

Taking part (participation.api_contribute) needs a person: signed in (session cookie; a state-changing request
carries the CSRF token like a web form) or a bearer token with the scope `participation` that belongs to a
person. Every route calls the service function the web form calls, so the API refuses exactly what the web
refuses, with the rule's code and German message as problem JSON (participation.errors.REFUSAL_STATUS).

Participants appear under their pseudonym only; a hidden comment keeps its place without author or text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response, current_app
from flask_babel import lazy_gettext as _l

from participation import cached_pages, rules
from participation.errors import ParticipationError
from participation.models import MAX_DEPTH, Consultation
from participation.schemas import (
    CommentQuerySchema,
    ConsultationQuerySchema,
    ParticipationCommentPageSchema,
    ParticipationCommentSchema,
    ParticipationConsultationListSchema,
    ParticipationConsultationSchema,
    ParticipationProposalPageSchema,
    ParticipationProposalSchema,
    ProposalQuerySchema,
)
from participation.services import comments, consultations, contributions, proposals
from participation.services.comments import CommentItem
from participation.services.common import Page, visible_consultation
from participation.services.proposals import ProposalItem
from portal import access
from portal.actors import Actor, current_actor
from portal.api.blueprint import Blueprint
from portal.errors import problem
from portal.reads_alone import reads_alone
from portal.timeutil import as_utc, utcnow
from portal.urls import absolute_url

SCOPE = "participation"
# Path ids: positive and within the 32-bit id columns; anything else is simply not found (never a 500).
ID = "int(min=1, max=2147483647)"
# The actions the API offers (drafts, surveys and votes get theirs later), as on the web pages.
OFFERED = (rules.PROPOSE, rules.COMMENT, rules.SUPPORT)

blp = Blueprint(
    "participation_api",
    __name__,
    url_prefix="/api/v1/participation",
    description="Consultations, proposals, comments and support (reading: public; taking part: signed in, or a "
    "person's token with the scope participation)",
)


@blp.errorhandler(ParticipationError)
def _refused(error: ParticipationError) -> Response:
    """Bad input or a rule's refusal, as problem JSON with its code (the same message the web form shows)."""
    message = str(error.message)
    return problem(
        error.status,
        message,
        type_=f"participation-{error.code}",
        errors={error.field: [message]},
        code=error.code,
    )


def participant() -> Actor:
    """The person taking part; a machine client's token acts for nobody who could (403 person_required)."""
    actor = current_actor()
    if actor.user is None:
        raise ParticipationError(
            "action",
            _l("Beteiligen können sich nur Personen; dieser Zugang gehört zu keiner Person."),
            "person_required",
            403,
        )
    return actor


# --- what a client receives -------------------------------------------------------------------------------------


def _consultation_item(consultation: Consultation, now: Any) -> dict[str, Any]:
    phases = consultation.phases
    department = consultation.department
    return {
        "id": consultation.id,
        "slug": consultation.slug,
        "title": consultation.title,
        "summary": consultation.summary,
        "state": consultation.state,
        "department": {"id": department.id, "slug": department.slug, "name": department.name},
        "district": consultation.district,
        "topic": consultation.topic,
        "audience": consultation.audience,
        "starts_at": min((p.starts_at for p in phases), default=None),
        "ends_at": max((p.ends_at for p in phases), default=None),
        "open_actions": sorted(rules.open_actions(consultation, now)),
        "proposal_count": consultation.proposal_count,
        "comment_count": consultation.comment_count,
        "support_count": consultation.support_count,
        "url": absolute_url("participation_api.get_consultation", consultation_id=consultation.id),
        "web_url": absolute_url("participation.consultation", slug=consultation.slug),
    }


def _consultation_view(actor: Actor, consultation: Consultation) -> dict[str, Any]:
    now = utcnow()
    current = rules.phase_in_force(consultation, now)
    offered = {action for phase in consultation.phases for action in phase.actions}
    yours = []
    for action in (a for a in OFFERED if a in offered):
        refused = rules.refusal(actor, consultation, action, now)
        yours.append(
            {
                "action": action,
                "allowed": refused is None,
                "refusal": None if refused is None else {"code": refused.code, "message": str(refused.message)},
            }
        )
    return {
        **_consultation_item(consultation, now),
        "body": consultation.body,
        "categories": list(consultation.categories or []),
        "premoderation": consultation.premoderation,
        "support_threshold": consultation.support_threshold,
        "area": json.loads(consultation.area_geojson) if consultation.area_geojson else None,
        "contact": {"name": consultation.contact_name, "email": consultation.contact_email},
        "published_at": consultation.published_at,
        "closed_at": consultation.closed_at,
        "phases": [
            {
                "id": p.id,
                "position": p.position,
                "kind": p.kind,
                "title": p.title,
                "description": p.description,
                "starts_at": p.starts_at,
                "ends_at": p.ends_at,
                "actions": list(p.actions),
                "current": current is not None and p.id == current.id,
            }
            for p in consultation.phases
        ],
        "your_actions": yours,
        "proposals_url": absolute_url("participation_api.list_proposals", consultation_id=consultation.id),
        "comments_url": absolute_url("participation_api.consultation_comments", consultation_id=consultation.id),
    }


def proposal_view(item: ProposalItem, slug: str) -> dict[str, Any]:
    proposal = item.proposal
    return {
        "id": proposal.id,
        "reference": proposal.reference,
        "consultation_id": proposal.consultation_id,
        "title": proposal.title,
        "body": proposal.body,
        "category": proposal.category,
        "address": proposal.address,
        "lat": proposal.lat,
        "lon": proposal.lon,
        "state": proposal.state,
        "author": item.author_name,
        "own": item.own,
        "supported": item.supported,
        "support_count": proposal.support_count,
        "comment_count": proposal.comment_count,
        "answer_requested": proposal.answer_requested_at is not None,
        "created_at": proposal.created_at,
        "updated_at": proposal.updated_at,
        "url": absolute_url("participation_api.get_proposal", proposal_id=proposal.id),
        "web_url": absolute_url("participation.proposal", slug=slug, reference=proposal.reference),
        "comments_url": absolute_url("participation_api.proposal_comments", proposal_id=proposal.id),
    }


def comment_view(item: CommentItem) -> dict[str, Any]:
    comment = item.comment
    hidden = item.text is None  # the services blank a hidden comment's text; its name and stance go with it
    return {
        "id": comment.id,
        "consultation_id": comment.consultation_id,
        "proposal_id": comment.proposal_id,
        "parent_id": comment.parent_id,
        "depth": comment.depth,
        "state": comment.state,
        "hidden": hidden,
        "author": None if hidden else item.author_name,
        "own": item.own,
        "stance": None if hidden else comment.stance,
        "text": item.text,
        "reply_count": comment.reply_count,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "replies": [comment_view(reply) for reply in item.replies],
        "more_replies": item.more_replies,
        "replies_url": (
            absolute_url("participation_api.comment_replies", comment_id=comment.id)
            if comment.depth < MAX_DEPTH
            else None
        ),
        "web_url": absolute_url("participation.comment", comment_id=comment.id),
    }


def _comment_page(page: Page[CommentItem]) -> Response:
    """The page as JSON, built here rather than by the response schema: a page holds up to a hundred comments
    with their replies, and marshmallow's work per field was most of the request. The same fields and formats
    as ParticipationCommentPageSchema (tests/participation/test_api.py checks one against the other)."""
    body = {"items": [comment_view(item) for item in page.items], "next_cursor": page.next_cursor}
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_iso), mimetype="application/json"
    )


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# --- consultations ----------------------------------------------------------------------------------------------


@blp.route("/consultations", methods=["GET"])
@blp.arguments(ConsultationQuerySchema, location="query")
@blp.response(200, ParticipationConsultationListSchema)
@access.public
@reads_alone
def list_consultations(args: dict[str, Any]):
    """Public consultations: `open` (a phase running, closing soonest first; the default), `upcoming` (starting
    soonest first) or `closed` (most recent first), optionally of one district or topic. Drafts never appear."""
    now = utcnow()
    found = consultations.list_consultations(args["status"], district=args["district"], topic=args["topic"], now=now)
    return {"items": [_consultation_item(c, now) for c in found]}


@blp.route(f"/consultations/<{ID}:consultation_id>", methods=["GET"])
@blp.response(200, ParticipationConsultationSchema)
@blp.alt_response(404, description="No such consultation (or a draft)")
@access.public
@reads_alone
def get_consultation(consultation_id: int):
    """A consultation with its phases, the actions the phase in force opens, and for you each action the
    timeline offers with whether you may do it now (and if not, the rule's code and message)."""
    actor = current_actor()
    return _consultation_view(actor, visible_consultation(actor, consultation_id))


@blp.route(f"/consultations/<{ID}:consultation_id>/proposals", methods=["GET"])
@blp.arguments(ProposalQuerySchema, location="query")
@blp.response(200, ParticipationProposalPageSchema)
@blp.alt_response(400, description="A cursor that does not exist (`bad_cursor`)")
@blp.alt_response(404, description="No such consultation")
@access.public
@reads_alone
def list_proposals(args: dict[str, Any], consultation_id: int):
    """One page of the consultation's published proposals (and your own pending ones): `newest` first or most
    `supported` first, optionally of one category. Pass `next_cursor` back as `cursor` for the next page."""
    actor = current_actor()
    consultation = visible_consultation(actor, consultation_id)
    page = proposals.list_proposals(
        actor,
        consultation.id,
        order=args["sort"],
        category=args["category"],
        cursor=args["cursor"],
        limit=args["limit"],
    )
    return {"items": [proposal_view(item, consultation.slug) for item in page.items], "next_cursor": page.next_cursor}


@blp.route(f"/consultations/<{ID}:consultation_id>/comments", methods=["GET"])
@blp.arguments(CommentQuerySchema, location="query")
@blp.response(200, ParticipationCommentPageSchema)
@blp.alt_response(400, description="A cursor that does not exist (`bad_cursor`)")
@blp.alt_response(404, description="No such consultation")
@access.public
@reads_alone
def consultation_comments(args: dict[str, Any], consultation_id: int):
    """One page of the comments on the consultation itself (not on a proposal), oldest first, each with its first
    replies (and theirs). A fixed number of queries per page, however long the thread."""
    actor = current_actor()
    consultation = visible_consultation(actor, consultation_id)
    return cached_pages.api_page(
        actor,
        consultation,
        "consultation",
        args,
        None,
        lambda: _comment_page(
            comments.list_comments(
                actor, consultation.id, cursor=args["cursor"], limit=args["limit"], replies=args["replies"]
            )
        ),
    )


# --- proposals and comments -------------------------------------------------------------------------------------


@blp.route(f"/proposals/<{ID}:proposal_id>", methods=["GET"])
@blp.response(200, ParticipationProposalSchema)
@blp.alt_response(404, description="No such proposal, or not one you may see")
@access.public
@reads_alone
def get_proposal(proposal_id: int):
    """A proposal. Pending and hidden ones only for their author (and the consultation's staff)."""
    item = proposals.get_proposal(current_actor(), proposal_id)
    return proposal_view(item, item.proposal.consultation.slug)


@blp.route(f"/proposals/<{ID}:proposal_id>/comments", methods=["GET"])
@blp.arguments(CommentQuerySchema, location="query")
@blp.response(200, ParticipationCommentPageSchema)
@blp.alt_response(400, description="A cursor that does not exist (`bad_cursor`)")
@blp.alt_response(404, description="No such proposal, or not one you may see")
@access.public
@reads_alone
def proposal_comments(args: dict[str, Any], proposal_id: int):
    """One page of a proposal's comments, oldest first, each with its first `replies` replies (and theirs);
    `more_replies` marks a comment with more, `replies_url` pages through them. Hidden comments keep their place
    without author, stance or text. A fixed number of queries per page, however long the thread."""
    actor = current_actor()
    item = proposals.get_proposal(actor, proposal_id)
    return cached_pages.api_page(
        actor,
        item.proposal.consultation,
        f"proposal-{proposal_id}",
        args,
        proposal_id,
        lambda: _comment_page(
            comments.list_comments(
                actor,
                item.proposal.consultation_id,
                proposal_id=proposal_id,
                cursor=args["cursor"],
                limit=args["limit"],
                replies=args["replies"],
            )
        ),
    )


@blp.route(f"/comments/<{ID}:comment_id>", methods=["GET"])
@blp.response(200, ParticipationCommentSchema)
@blp.alt_response(404, description="No such comment, or not one you may see")
@access.public
@reads_alone
def get_comment(comment_id: int):
    """One comment (without its replies: see `replies_url`)."""
    return comment_view(contributions.get_comment(current_actor(), comment_id).item)


@blp.route(f"/comments/<{ID}:comment_id>/replies", methods=["GET"])
@blp.arguments(CommentQuerySchema, location="query")
@blp.response(200, ParticipationCommentPageSchema)
@blp.alt_response(400, description="A cursor that does not exist (`bad_cursor`)")
@blp.alt_response(404, description="No such comment")
@access.public
@reads_alone
def comment_replies(args: dict[str, Any], comment_id: int):
    """One page of a comment's direct replies, oldest first, each with its own first replies."""
    actor = current_actor()
    contributions.get_comment(actor, comment_id)  # 404 where the web's comment page is 404 too
    page = comments.list_replies(actor, comment_id, cursor=args["cursor"], limit=args["limit"], replies=args["replies"])
    return _comment_page(page)
