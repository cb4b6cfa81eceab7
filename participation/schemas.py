"""Request and response schemas of the participation API (marshmallow, documented in the OpenAPI).

Requests are checked for shape only (types, sizes, no NUL bytes or lone surrogates, no unknown keys); the rules
(lengths, the phase, the name to appear under, the depth of a reply) stay in participation.services, which
answer with the same codes and German messages as the web forms.

One set of response schemas serves everyone, staff included: participants appear under their pseudonym (or a
guest's name marked as such), never with an account id, name or e-mail address, and a hidden comment keeps
its place without author, stance or text. Staff see the same; what moderation needs is on its own pages.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from participation.models import Stance
from participation.services.common import PAGE_MAX
from portal.api.schemas import UTCDateTime

ID_MAX = 2**31 - 1  # the id columns are 32-bit integers; a larger id cannot exist
CURSOR_MAX = 200  # the cursors we hand out are far shorter
FILTER_MAX = 100
TEXT_CAP = 20_000  # well above every limit the services apply; larger bodies are refused before they get there
INVALID_TEXT = "Der Text enthält ungültige Zeichen."


def _plain_text(value: str) -> None:
    """No NUL bytes (PostgreSQL cannot store them) and no lone surrogates (no encoding can)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError(INVALID_TEXT) from None
    if "\x00" in value:
        raise ma.ValidationError(INVALID_TEXT)


def _text(max_length: int = TEXT_CAP, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=[ma.validate.Length(max=max_length), _plain_text], **kwargs)


def _id(**kwargs: Any) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(1, ID_MAX), **kwargs)


# --- query parameters -------------------------------------------------------------------------------------------


class ConsultationQuerySchema(ma.Schema):
    status = ma.fields.String(
        load_default="open",
        validate=ma.validate.OneOf(["open", "upcoming", "closed"]),
        metadata={"description": "open (a phase running; default), upcoming (not begun) or closed"},
    )
    district = _text(FILTER_MAX, load_default=None, metadata={"description": "Only this district (Stadtteil)"})
    topic = _text(FILTER_MAX, load_default=None, metadata={"description": "Only this topic"})


class PageQuerySchema(ma.Schema):
    cursor = _text(
        CURSOR_MAX,
        load_default=None,
        metadata={"description": "`next_cursor` of the previous page; leave out for the first page"},
    )
    limit = ma.fields.Integer(
        load_default=20,
        validate=ma.validate.Range(1, PAGE_MAX),
        metadata={"description": f"Items per page (1-{PAGE_MAX}, default 20)"},
    )


class ProposalQuerySchema(PageQuerySchema):
    sort = ma.fields.String(
        load_default="newest",
        validate=ma.validate.OneOf(["newest", "supported"]),
        metadata={"description": "newest first (default) or most supported first"},
    )
    category = _text(FILTER_MAX, load_default=None, metadata={"description": "Only proposals of this category"})


class CommentQuerySchema(PageQuerySchema):
    replies = ma.fields.Integer(
        load_default=3,
        validate=ma.validate.Range(0, 10),
        metadata={
            "description": "Replies loaded with each comment, and with each of those (0-10, default 3); "
            "`more_replies` says when there are more, `replies_url` pages through them"
        },
    )


# --- request bodies ---------------------------------------------------------------------------------------------

PSEUDONYM = {
    "description": "The name to appear under, needed with your first contribution only (then it stays yours); "
    "without one the first contribution is refused with `pseudonym_required`"
}


class ProposalCreateSchema(ma.Schema):
    title = _text(required=True, metadata={"description": "Up to 200 characters, one line"})
    body = _text(required=True, metadata={"description": "Plain text, up to 5,000 characters", "multiline": True})
    category = _text(
        FILTER_MAX,
        load_default=None,
        allow_none=True,
        metadata={"description": "One of the consultation's `categories`"},
    )
    address = _text(load_default=None, allow_none=True, metadata={"description": "Where, in words (200 characters)"})
    lat = ma.fields.Float(allow_nan=False, load_default=None, allow_none=True, metadata={"description": "Latitude"})
    lon = ma.fields.Float(allow_nan=False, load_default=None, allow_none=True, metadata={"description": "Longitude"})
    pseudonym = _text(100, load_default=None, allow_none=True, metadata=PSEUDONYM)


class CommentCreateSchema(ma.Schema):
    body = _text(required=True, metadata={"description": "Plain text, up to 4,000 characters", "multiline": True})
    stance = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf([s.value for s in Stance]),
        metadata={"description": "pro, neutral or contra (optional)"},
    )
    parent_id = _id(
        load_default=None,
        allow_none=True,
        metadata={"description": "Reply to this comment (at most two replies deep: `depth_exceeded` beyond)"},
    )
    pseudonym = _text(100, load_default=None, allow_none=True, metadata=PSEUDONYM)


# --- responses --------------------------------------------------------------------------------------------------


class ParticipationRefusalSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "phase_closed, sign_in_required, verified_required, ..."})
    message = ma.fields.String(metadata={"description": "Why, in German, as the web page says it"})


class ParticipationActionSchema(ma.Schema):
    action = ma.fields.String(metadata={"description": "propose, comment or support"})
    allowed = ma.fields.Boolean(metadata={"description": "Whether you may do it now"})
    refusal = ma.fields.Nested(ParticipationRefusalSchema, allow_none=True)


class ParticipationPhaseSchema(ma.Schema):
    id = ma.fields.Integer()
    position = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "information, proposals, comments, draft, survey, ..."})
    title = ma.fields.String()
    description = ma.fields.String()
    starts_at = UTCDateTime(format="iso")
    ends_at = UTCDateTime(format="iso", metadata={"description": "The phase is in force up to (excluding) this"})
    actions = ma.fields.List(ma.fields.String(), metadata={"description": "What the phase opens"})
    current = ma.fields.Boolean(metadata={"description": "The phase in force now"})


class ParticipationDepartmentSchema(ma.Schema):
    id = ma.fields.Integer()
    slug = ma.fields.String()
    name = ma.fields.String()


class ParticipationConsultationItemSchema(ma.Schema):
    id = ma.fields.Integer()
    slug = ma.fields.String()
    title = ma.fields.String()
    summary = ma.fields.String()
    state = ma.fields.String(metadata={"description": "published, closed or archived"})
    department = ma.fields.Nested(ParticipationDepartmentSchema)
    district = ma.fields.String(allow_none=True)
    topic = ma.fields.String(allow_none=True)
    audience = ma.fields.String(metadata={"description": "signed_in, verified or guests"})
    starts_at = UTCDateTime(format="iso", allow_none=True, metadata={"description": "Start of the first phase"})
    ends_at = UTCDateTime(format="iso", allow_none=True, metadata={"description": "End of the last phase"})
    open_actions = ma.fields.List(ma.fields.String(), metadata={"description": "Open in the phase in force"})
    proposal_count = ma.fields.Integer()
    comment_count = ma.fields.Integer()
    support_count = ma.fields.Integer()
    url = ma.fields.String(metadata={"description": "This resource in the API"})
    web_url = ma.fields.String(metadata={"description": "The consultation's page"})


class ParticipationConsultationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ParticipationConsultationItemSchema))


class ParticipationContactSchema(ma.Schema):
    name = ma.fields.String(metadata={"description": "The contact the department publishes"})
    email = ma.fields.String()


class ParticipationConsultationSchema(ParticipationConsultationItemSchema):
    body = ma.fields.String(metadata={"description": "HTML, a safe subset (paragraphs, lists, links, headings)"})
    categories = ma.fields.List(ma.fields.String(), metadata={"description": "What a proposal may be filed under"})
    premoderation = ma.fields.Boolean(metadata={"description": "Contributions appear once a moderator publishes them"})
    support_threshold = ma.fields.Integer(
        allow_none=True, metadata={"description": "Supports after which a proposal gets an official answer"}
    )
    area = ma.fields.Raw(allow_none=True, metadata={"description": "The area concerned, a GeoJSON polygon"})
    contact = ma.fields.Nested(ParticipationContactSchema)
    published_at = UTCDateTime(format="iso", allow_none=True)
    closed_at = UTCDateTime(format="iso", allow_none=True)
    phases = ma.fields.List(ma.fields.Nested(ParticipationPhaseSchema))
    your_actions = ma.fields.List(
        ma.fields.Nested(ParticipationActionSchema),
        metadata={"description": "Each action the timeline offers: whether you may do it now, and if not, why"},
    )
    proposals_url = ma.fields.String()
    comments_url = ma.fields.String()


class ParticipationProposalSchema(ma.Schema):
    id = ma.fields.Integer()
    reference = ma.fields.String(metadata={"example": "VOR-2026-000042"})
    consultation_id = ma.fields.Integer()
    title = ma.fields.String()
    body = ma.fields.String(metadata={"description": "Plain text"})
    category = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    state = ma.fields.String(
        metadata={"description": "published; pending (waits for moderation; only its author sees it) or hidden"}
    )
    author = ma.fields.String(metadata={"description": "The author's pseudonym"})
    own = ma.fields.Boolean(metadata={"description": "You wrote it"})
    supported = ma.fields.Boolean(metadata={"description": "You support it"})
    support_count = ma.fields.Integer()
    comment_count = ma.fields.Integer()
    answer_requested = ma.fields.Boolean(metadata={"description": "Reached the support threshold"})
    created_at = UTCDateTime(format="iso")
    updated_at = UTCDateTime(format="iso")
    url = ma.fields.String()
    web_url = ma.fields.String()
    comments_url = ma.fields.String()


class ParticipationProposalPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ParticipationProposalSchema))
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page"}
    )


class ParticipationCommentSchema(ma.Schema):
    id = ma.fields.Integer()
    consultation_id = ma.fields.Integer()
    proposal_id = ma.fields.Integer(allow_none=True)
    parent_id = ma.fields.Integer(allow_none=True)
    depth = ma.fields.Integer(metadata={"description": "0 top level, 1 a reply, 2 a reply to a reply (the deepest)"})
    state = ma.fields.String(metadata={"description": "published, pending (only its author sees it) or hidden"})
    hidden = ma.fields.Boolean(metadata={"description": "Hidden by the moderation: no author, stance or text"})
    author = ma.fields.String(allow_none=True, metadata={"description": "A pseudonym, or a guest's name"})
    own = ma.fields.Boolean(metadata={"description": "You wrote it"})
    stance = ma.fields.String(allow_none=True, metadata={"description": "pro, neutral or contra"})
    text = ma.fields.String(allow_none=True, metadata={"description": "Plain text; null when hidden"})
    reply_count = ma.fields.Integer(metadata={"description": "Published direct replies"})
    created_at = UTCDateTime(format="iso")
    edited_at = UTCDateTime(format="iso", allow_none=True)
    replies = ma.fields.List(
        ma.fields.Nested(lambda: ParticipationCommentSchema()),
        metadata={"description": "The first replies (and theirs), as many as `replies` asked for"},
    )
    more_replies = ma.fields.Boolean(metadata={"description": "More replies than those included"})
    replies_url = ma.fields.String(metadata={"description": "Pages through all direct replies"})
    web_url = ma.fields.String()


class ParticipationCommentPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ParticipationCommentSchema))
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page"}
    )


class ParticipationSupportSchema(ma.Schema):
    proposal_id = ma.fields.Integer()
    supported = ma.fields.Boolean(metadata={"description": "Whether you support it now"})
    support_count = ma.fields.Integer()
    answer_requested = ma.fields.Boolean(
        metadata={"description": "This support reached the threshold: the proposal gets an official answer"}
    )
