"""Comments on a consultation, a proposal or a paragraph of its draft text: threaded three levels deep, with a
stance, editable for a while. A draft's paragraph is commented in a phase that opens "comment_draft" (the
paragraph counts its published comments), everything else in one that opens "comment".

A page of a thread is a cursor over one level (top-level comments, or one comment's replies) in id order, with
the first few replies of each item (and theirs) loaded alongside, one window-function query per level: a fixed
number of queries however long the thread, never a COUNT (`reply_count` is a counter column). Hidden comments
stay in the thread as placeholders without their text, so replies to them keep their place; a participant sees
their own pending comments, nobody else's. Guests (consultations open to them) comment without an account, always
pre-moderated, under the name they give, marked as a guest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import (
    COMMENT_BODY_MAX,
    MAX_DEPTH,
    Comment,
    ContributionState,
    Proposal,
    Pseudonym,
    Stance,
)
from participation.models_surveys import DraftParagraph
from participation.services import moderation, pseudonyms
from participation.services.common import (
    Page,
    bump,
    check_allowed,
    decode_cursor,
    encode_cursor,
    load_consultation,
    page_size,
    shown_name,
    visible_consultation,
)
from participation.text import plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

GUEST_NAME_MAX = 60
REPLIES_SHOWN = 3  # replies loaded with each comment of a page; the rest via list_replies


@dataclass
class CommentItem:
    """A comment as a thread shows it: its name, its text (None when hidden) and its first replies."""

    comment: Comment
    author_name: str
    own: bool = False
    replies: list[CommentItem] = field(default_factory=list)
    more_replies: bool = False  # replies beyond those loaded: list_replies(comment.id) pages through them

    @property
    def text(self) -> str | None:
        return None if self.comment.state == ContributionState.HIDDEN else self.comment.body


def edit_minutes() -> int:
    return int(current_app.config.get("PARTICIPATION_EDIT_MINUTES", 15))


def _stance(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in {s.value for s in Stance}:
        raise ParticipationError("stance", _l("Wählen Sie dafür, neutral oder dagegen."), "bad_stance")
    return value


def _published_proposal(consultation_id: int, proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id, populate_existing=True)
    if proposal is None or proposal.consultation_id != consultation_id:
        raise NotFound()
    if proposal.state != ContributionState.PUBLISHED:
        raise ParticipationError(
            "body", _l("Dieser Vorschlag kann nicht kommentiert werden."), "proposal_not_published", 409
        )
    return proposal


def action_for(comment: Comment) -> str:
    """The rules' action under which this comment is written, answered and edited."""
    return rules.COMMENT_DRAFT if comment.paragraph_id is not None else rules.COMMENT


def _action(paragraph_id: int | None, parent_id: int | None) -> str:
    """The action a new comment needs: a reply joins its parent's paragraph (which never changes, so it may be
    read before the consultation is locked)."""
    if paragraph_id is None and parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        paragraph_id = parent.paragraph_id if parent is not None else None
    return rules.COMMENT_DRAFT if paragraph_id is not None else rules.COMMENT


def _paragraph(consultation_id: int, paragraph_id: int) -> DraftParagraph:
    paragraph = db.session.get(DraftParagraph, paragraph_id, populate_existing=True)
    if paragraph is None or paragraph.consultation_id != consultation_id:
        raise NotFound()
    return paragraph


def _parent(consultation_id: int, proposal_id: int | None, parent_id: int, paragraph_id: int | None = None) -> Comment:
    parent = db.session.get(Comment, parent_id, populate_existing=True)
    if parent is None or parent.consultation_id != consultation_id:
        raise NotFound()
    if proposal_id is not None and parent.proposal_id != proposal_id:
        raise NotFound()
    if paragraph_id is not None and parent.paragraph_id != paragraph_id:
        raise NotFound()
    if parent.depth >= MAX_DEPTH:
        raise ParticipationError(
            "parent_id", _l("Auf diese Antwort kann nicht weiter geantwortet werden."), "depth_exceeded"
        )
    if parent.state != ContributionState.PUBLISHED:
        raise ParticipationError(
            "parent_id", _l("Auf diesen Kommentar kann nicht geantwortet werden."), "parent_not_published", 409
        )
    return parent


def create_comment(
    actor: Actor,
    consultation_id: int,
    *,
    body: str,
    proposal_id: int | None = None,
    parent_id: int | None = None,
    stance: str | None = None,
    pseudonym: str | None = None,
    guest_name: str | None = None,
    paragraph_id: int | None = None,
) -> Comment:
    """Comment on the consultation (or on one of its proposals, or on a paragraph of its draft text), or reply to
    a comment (depth at most 2).

    Refused with the rules' message outside a phase that opens "comment" ("comment_draft" for a paragraph). A
    signed-in person appears under their pseudonym (`pseudonym` chooses it with their first contribution); a
    guest under `guest_name`.
    """
    consultation = visible_consultation(actor, consultation_id)
    if proposal_id is not None and paragraph_id is not None:
        raise ParticipationError(
            "paragraph_id", _l("Kommentieren Sie einen Vorschlag oder einen Absatz."), "bad_target"
        )
    action = _action(paragraph_id, parent_id)
    check_allowed(actor, consultation, action, "body")
    text = plain_text(body, "body", COMMENT_BODY_MAX)
    chosen_stance = _stance(stance)
    guest = None
    if actor.user is None:
        guest = plain_text(guest_name, "guest_name", GUEST_NAME_MAX, multiline=False)
        if "@" in guest:
            raise ParticipationError("guest_name", _l("Geben Sie einen Namen an, keine E-Mail-Adresse."), "bad_name")

    def work() -> Comment:
        with transaction():
            locked = load_consultation(consultation_id, for_update=True)
            check_allowed(actor, locked, action, "body")
            parent = _parent(locked.id, proposal_id, parent_id, paragraph_id) if parent_id is not None else None
            on_proposal = parent.proposal_id if parent is not None else proposal_id  # a reply joins its parent's
            proposal = _published_proposal(locked.id, on_proposal) if on_proposal is not None else None
            on_paragraph = parent.paragraph_id if parent is not None else paragraph_id
            paragraph = _paragraph(locked.id, on_paragraph) if on_paragraph is not None else None
            pending = guest is not None or locked.premoderation
            if not pending:
                if parent is not None:
                    bump(parent, "reply_count", 1)
                if proposal is not None:
                    bump(proposal, "comment_count", 1)
                if paragraph is not None:
                    bump(paragraph, "comment_count", 1)
                bump(locked, "comment_count", 1)
            if actor.user is not None:
                pseudonyms.ensure(actor, pseudonym)
            comment = Comment(
                consultation_id=locked.id,
                proposal_id=on_proposal,
                paragraph_id=on_paragraph,
                parent_id=parent.id if parent else None,
                root_id=(parent.root_id or parent.id) if parent else None,
                depth=parent.depth + 1 if parent else 0,
                author_id=actor.user.id if actor.user else None,
                guest_name=guest,
                body=text,
                stance=chosen_stance,
                state=(ContributionState.PENDING if pending else ContributionState.PUBLISHED).value,
            )
            db.session.add(comment)
            if pending:
                moderation.open_pending_case(locked, comment)  # the moderators' queue
            on_draft: dict[str, Any] = {"paragraph": on_paragraph} if on_paragraph is not None else {}
            audit.record(
                "participation.comment_created",
                actor,
                target=comment,
                subject_user_id=actor.user.id if actor.user else None,
                consultation=locked.slug,
                proposal=proposal.reference if proposal else None,
                parent=comment.parent_id,
                depth=comment.depth,
                state=comment.state,
                **on_draft,
            )
        return comment

    if actor.user is None:
        return work()
    return pseudonyms.run_with_pseudonym(actor, pseudonym, work)


def edit_comment(actor: Actor, comment_id: int, *, body: str, stance: str | None = None) -> Comment:
    """Its author changes a comment within PARTICIPATION_EDIT_MINUTES of writing it, while commenting is open."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound()
    if actor.user is None or comment.author_id != actor.user.id:
        raise Forbidden()
    text = plain_text(body, "body", COMMENT_BODY_MAX)
    chosen_stance = _stance(stance)
    with transaction():
        consultation = load_consultation(comment.consultation_id, for_update=True)
        check_allowed(actor, consultation, action_for(comment), "body")
        db.session.refresh(comment)
        if comment.state == ContributionState.HIDDEN:
            raise ParticipationError(
                "body", _l("Ein ausgeblendeter Kommentar kann nicht bearbeitet werden."), "hidden", 409
            )
        minutes = edit_minutes()
        if utcnow() - comment.created_at > timedelta(minutes=minutes):
            raise ParticipationError(
                "body",
                _l("Kommentare können nur in den ersten %(n)s Minuten bearbeitet werden.", n=minutes),
                "edit_window_over",
                409,
            )
        comment.body = text
        comment.stance = chosen_stance
        comment.edited_at = utcnow()
        audit.record(
            "participation.comment_edited",
            actor,
            target=comment,
            subject_user_id=actor.user.id,
            consultation=consultation.slug,
            proposal=comment.proposal_id,
        )
    return comment


# --- reading a thread ---------------------------------------------------------------------------------------


def _visible(viewer_id: int | None) -> Any:
    shown = Comment.state.in_([ContributionState.PUBLISHED, ContributionState.HIDDEN])
    if viewer_id is None:
        return shown
    return sa.or_(shown, sa.and_(Comment.state == ContributionState.PENDING, Comment.author_id == viewer_id))


@dataclass(frozen=True)
class _Level:
    """The comments a page walks: its filter, their depth, and the order of the index that serves it.

    The order's leading columns are constant under the filter (equal, or all NULL), so it is the id order the cursor
    needs. Naming them lets PostgreSQL read that index in order: it does not take `IS NULL` as fixing a column, and
    would otherwise walk the primary key and filter it, tens of thousands of rows for a page of a big thread."""

    where: list[Any]
    order: list[Any]
    depth: int


def _thread_rows(level: _Level, after: int | None, size: int, viewer_id: int | None, replies: int) -> Sequence[Any]:
    """One page of a thread level and the replies shown with it, with their authors' pseudonyms, in one query.

    The page: the first `size` + 1 visible comments of the level after the cursor, in id order (the extra one says
    there is a next page). Below it, level by level down to MAX_DEPTH: the first `replies` + 1 visible replies of
    each shown comment of the level above (the extra one says there are more), ranked by a window function."""
    position = sa.func.row_number().over(order_by=level.order).label("position")
    page_query = sa.select(Comment.id, position).where(*level.where, _visible(viewer_id))
    if after is not None:
        page_query = page_query.where(Comment.id > after)
    page = page_query.order_by(*level.order).limit(size + 1).cte("thread_page")
    wanted = [sa.select(page.c.id)]
    parents = sa.select(page.c.id).where(page.c.position <= size)
    for depth in range(level.depth + 1, MAX_DEPTH + 1 if replies > 0 else level.depth + 1):
        rank = sa.func.row_number().over(partition_by=Comment.parent_id, order_by=Comment.id).label("reply_rank")
        ranked = (
            sa.select(Comment.id, rank).where(Comment.parent_id.in_(parents), _visible(viewer_id)).cte(f"level_{depth}")
        )
        wanted.append(sa.select(ranked.c.id).where(ranked.c.reply_rank <= replies + 1))
        parents = sa.select(ranked.c.id).where(ranked.c.reply_rank <= replies)
    return db.session.execute(
        sa.select(Comment, Pseudonym.name)
        .outerjoin(Pseudonym, Pseudonym.user_id == Comment.author_id)
        .where(Comment.id.in_(sa.union_all(*wanted) if len(wanted) > 1 else wanted[0]))
        .order_by(Comment.id)
    ).all()


def _page(actor: Actor, level: _Level, cursor: str | None, limit: int, replies: int) -> Page[CommentItem]:
    """A page of comments of one level, each with its first replies."""
    viewer = actor.user.id if actor.user else None
    size = page_size(limit)
    after = decode_cursor(cursor, int)
    found = _thread_rows(level, after[0] if after is not None else None, size, viewer, replies)
    names = {c.author_id: name for c, name in found if name is not None}
    rows = [c for c, _name in found if c.depth == level.depth]
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    rows = rows[:size]
    more: set[int | None] = set()
    shown: list[Comment] = []
    per_parent: dict[int | None, int] = {}
    for reply in (c for c, _name in found if c.depth > level.depth):
        per_parent[reply.parent_id] = per_parent.get(reply.parent_id, 0) + 1
        if per_parent[reply.parent_id] > replies:
            more.add(reply.parent_id)
        else:
            shown.append(reply)

    def item(comment: Comment) -> CommentItem:
        name = shown_name(comment.author_id, names, comment.guest_name)
        own = viewer is not None and comment.author_id == viewer
        unloaded = replies <= 0 and comment.reply_count > 0
        return CommentItem(comment, name, own, more_replies=comment.id in more or unloaded)

    items = {c.id: item(c) for c in [*rows, *shown]}
    for comment in shown:  # in id order, so each comment's replies are too
        items[comment.parent_id].replies.append(items[comment.id])  # type: ignore[index]
    return Page([items[c.id] for c in rows], next_cursor)


def list_comments(
    actor: Actor,
    consultation_id: int,
    *,
    proposal_id: int | None = None,
    cursor: str | None = None,
    limit: int = 20,
    replies: int = REPLIES_SHOWN,
    paragraph_id: int | None = None,
) -> Page[CommentItem]:
    """One page of the top-level comments on the consultation (or on one proposal, or one paragraph of its
    draft), oldest first, each with its first `replies` replies (and theirs)."""
    consultation = visible_consultation(actor, consultation_id)
    where = [Comment.consultation_id == consultation.id, Comment.parent_id.is_(None)]
    if proposal_id is not None:
        where.append(Comment.proposal_id == proposal_id)
        order = [Comment.proposal_id, Comment.parent_id, Comment.id]  # ix_participation_comment_thread
    elif paragraph_id is not None:
        where.append(Comment.paragraph_id == paragraph_id)
        order = [Comment.paragraph_id, Comment.parent_id, Comment.id]  # ix_participation_comment_paragraph
    else:
        where += [Comment.proposal_id.is_(None), Comment.paragraph_id.is_(None)]
        order = [Comment.consultation_id, Comment.proposal_id, Comment.parent_id, Comment.id]  # …_consultation
    return _page(actor, _Level(where, order, 0), cursor, limit, replies)


def list_replies(
    actor: Actor, comment_id: int, *, cursor: str | None = None, limit: int = 20, replies: int = REPLIES_SHOWN
) -> Page[CommentItem]:
    """One page of a comment's direct replies, oldest first, each with its own first replies."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound()
    visible_consultation(actor, comment.consultation_id)
    level = _Level([Comment.parent_id == comment.id], [Comment.parent_id, Comment.id], comment.depth + 1)
    return _page(actor, level, cursor, limit, replies)


def has_commented(user_id: int, consultation_id: int, proposal_id: int | None) -> bool:
    """Whether this person wrote any comment (in any state) in the thread of the proposal (None: the consultation's
    own): their view of it then differs from everyone else's (their pending ones, "Bearbeiten", no "Melden")."""
    return (
        db.session.scalar(sa.select(Comment.id).where(*thread_of(user_id, consultation_id, proposal_id)).limit(1))
        is not None
    )


def thread_of(user_id: Any, consultation_id: Any, proposal_id: Any | None) -> list[Any]:
    """The conditions for this person's comments in the thread of the proposal (None: the consultation's own);
    values or bound parameters."""
    where = [Comment.author_id == user_id, Comment.consultation_id == consultation_id]
    if proposal_id is None:
        where += [Comment.proposal_id.is_(None), Comment.paragraph_id.is_(None)]
    else:
        where.append(Comment.proposal_id == proposal_id)
    return where
