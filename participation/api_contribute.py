"""Taking part through the API: propose, support and withdraw, comment and reply (routes on participation.api's
blueprint).

Signed in with the session cookie (plus the CSRF token, as portal.api demands of every cookie request that
changes something) or with a bearer token of the scope `participation` that belongs to a person. Each route
calls the one service function the web form calls: the phase, the audience, a moderator's block, the name to
appear under and the depth of a reply are checked there, and a refusal comes back as problem JSON with the
rule's `code` and German message (401/403/404/409 for a rule, 422 for input).
"""

from __future__ import annotations

from typing import Any

from participation.api import ID, SCOPE, blp, comment_view, participant, proposal_view
from participation.models import Comment
from participation.schemas import (
    CommentCreateSchema,
    ParticipationCommentSchema,
    ParticipationProposalSchema,
    ParticipationSupportSchema,
    ProposalCreateSchema,
)
from participation.services import comments, contributions, proposals, supports
from portal import access
from portal.actors import Actor
from portal.urls import absolute_url

REFUSALS = (
    "The rules refuse it: `code` says which (phase_closed, closed, verified_required, blocked, ...) and `detail` "
    "says why, in German, as the web page does"
)


def _created_comment(actor: Actor, comment: Comment) -> tuple[dict[str, Any], int, dict[str, str]]:
    item = contributions.get_comment(actor, comment.id).item
    return comment_view(item), 201, {"Location": absolute_url("participation_api.get_comment", comment_id=comment.id)}


@blp.route(f"/consultations/<{ID}:consultation_id>/proposals", methods=["POST"])
@blp.arguments(ProposalCreateSchema)
@blp.response(201, ParticipationProposalSchema)
@blp.alt_response(404, description="No such consultation")
@blp.alt_response(409, description=REFUSALS + "; `name_taken` for a pseudonym someone has")
@blp.alt_response(422, description="Bad input: `too_long`, `required`, `bad_category`, `pseudonym_required`, ...")
@access.token_or_signed_in(SCOPE)
def create_proposal(data: dict[str, Any], consultation_id: int):
    """Submit a proposal while the phase in force opens `propose`. In a pre-moderated consultation it is
    `pending` until a moderator publishes it. With your first contribution, give the `pseudonym` to appear under."""
    actor = participant()
    proposal = proposals.create_proposal(actor, consultation_id, **data)
    item = proposals.get_proposal(actor, proposal.id)
    location = absolute_url("participation_api.get_proposal", proposal_id=proposal.id)
    return proposal_view(item, item.proposal.consultation.slug), 201, {"Location": location}


def _support_view(result: Any, supported: bool) -> dict[str, Any]:
    return {
        "proposal_id": result.proposal_id,
        "supported": supported,
        "support_count": result.support_count,
        "answer_requested": result.answer_requested,
    }


@blp.route(f"/proposals/<{ID}:proposal_id>/support", methods=["POST"])
@blp.response(200, ParticipationSupportSchema)
@blp.alt_response(404, description="No such proposal")
@blp.alt_response(409, description=REFUSALS + "; `already_supported` the second time")
@access.token_or_signed_in(SCOPE)
def support(proposal_id: int):
    """Support a published proposal while the phase in force opens `support`: once per person (a second time,
    also a concurrent double click, is 409 `already_supported`)."""
    return _support_view(supports.support(participant(), proposal_id), True)


@blp.route(f"/proposals/<{ID}:proposal_id>/support", methods=["DELETE"])
@blp.response(200, ParticipationSupportSchema)
@blp.alt_response(404, description="No such proposal")
@blp.alt_response(409, description=REFUSALS + "; `not_supported` if you do not support it")
@access.token_or_signed_in(SCOPE)
def withdraw_support(proposal_id: int):
    """Withdraw your support while the phase in force still opens `support`."""
    return _support_view(supports.withdraw(participant(), proposal_id), False)


@blp.route(f"/consultations/<{ID}:consultation_id>/comments", methods=["POST"])
@blp.arguments(CommentCreateSchema)
@blp.response(201, ParticipationCommentSchema)
@blp.alt_response(404, description="No such consultation, or no such comment to reply to")
@blp.alt_response(409, description=REFUSALS + "; `parent_not_published` for a reply to a hidden or pending comment")
@blp.alt_response(422, description="Bad input: `too_long`, `required`, `depth_exceeded`, `pseudonym_required`, ...")
@access.token_or_signed_in(SCOPE)
def create_consultation_comment(data: dict[str, Any], consultation_id: int):
    """Comment on the consultation while the phase in force opens `comment`, or reply to a comment with
    `parent_id` (three levels at most). Pre-moderated consultations keep it `pending` until a moderator publishes
    it."""
    actor = participant()
    return _created_comment(actor, comments.create_comment(actor, consultation_id, **data))


@blp.route(f"/proposals/<{ID}:proposal_id>/comments", methods=["POST"])
@blp.arguments(CommentCreateSchema)
@blp.response(201, ParticipationCommentSchema)
@blp.alt_response(404, description="No such proposal, or no such comment on it to reply to")
@blp.alt_response(409, description=REFUSALS + "; `parent_not_published` for a reply to a hidden or pending comment")
@blp.alt_response(422, description="Bad input: `too_long`, `required`, `depth_exceeded`, `pseudonym_required`, ...")
@access.token_or_signed_in(SCOPE)
def create_proposal_comment(data: dict[str, Any], proposal_id: int):
    """Comment on a proposal (or reply to one of its comments with `parent_id`), under the same rules."""
    actor = participant()
    item = proposals.get_proposal(actor, proposal_id)
    comment = comments.create_comment(actor, item.proposal.consultation_id, proposal_id=proposal_id, **data)
    return _created_comment(actor, comment)
