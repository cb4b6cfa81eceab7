"""Proposals: submitted in a phase that opens "propose", listed by cursor, newest or most supported first.

A proposal appears under its author's pseudonym (chosen with the first contribution if they have none). In a
pre-moderated consultation it waits as 'pending' (seen only by its author) and counts only once published.
Before submitting, `similar_proposals` shows those with overlapping title words, to avoid duplicates.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import (
    PROPOSAL_BODY_MAX,
    TITLE_MAX,
    Consultation,
    ContributionState,
    Proposal,
    Pseudonym,
    Support,
)
from participation.services import images, moderation, pseudonyms
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
from participation.text import optional_line, plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.references import next_reference
from portal.timeutil import as_utc
from portal.transaction import transaction

REFERENCE_PREFIX = "VOR"
ORDERS = ("newest", "supported")
SIMILAR_CANDIDATES = 50
# Words too common to say two titles are about the same thing.
_STOPWORD_TEXT = (
    "aber alle auch dass dies diese diesem dieser durch eine einem einen einer eines gegen mehr nach noch oder "
    "ohne sein sich sind soll sollen sollte unser unsere viel weil wenn werden wird wäre über unter zwischen "
    "bitte neue neuen neuer neues"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass
class ProposalItem:
    """A proposal as a page shows it: the name it appears under, and whether the viewer supports it."""

    proposal: Proposal
    author_name: str
    supported: bool = False
    own: bool = False


def _visible_to(viewer_id: int | None) -> Any:
    if viewer_id is None:
        return Proposal.state == ContributionState.PUBLISHED
    return sa.or_(
        Proposal.state == ContributionState.PUBLISHED,
        sa.and_(Proposal.state == ContributionState.PENDING, Proposal.author_id == viewer_id),
    )


def _point(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") and lon in (None, ""):
        return None, None
    try:
        point = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ParticipationError("lat", _l("Geben Sie Breite und Länge als Zahlen an."), "bad_point") from None
    from portal.maps import settings as map_settings

    south, west, north, east = map_settings.current().bounds
    if not (south <= point[0] <= north and west <= point[1] <= east):
        raise ParticipationError("lat", _l("Dieser Ort liegt nicht in der Stadt."), "outside_city")
    return point


def create_proposal(
    actor: Actor,
    consultation_id: int,
    *,
    title: str,
    body: str,
    category: str | None = None,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    image_key: str | None = None,
    image_alt: str | None = None,
    pseudonym: str | None = None,
) -> Proposal:
    """Submit a proposal while the phase in force opens "propose"; refused with the rules' message otherwise.

    `pseudonym` is the name to appear under, needed only with the person's first contribution. `image_key` is an
    image the author took in before (participation.services.images.take_image), `image_alt` its description.
    """
    consultation = visible_consultation(actor, consultation_id)
    check_allowed(actor, consultation, rules.PROPOSE)
    assert actor.user is not None  # the rules let only signed-in people propose
    values: dict[str, Any] = {
        "title": plain_text(title, "title", TITLE_MAX, multiline=False),
        "body": plain_text(body, "body", PROPOSAL_BODY_MAX),
        "address": optional_line(address, "address", 200),
    }
    values["category"] = optional_line(category, "category", 100)
    if values["category"] is not None and values["category"] not in consultation.categories:
        raise ParticipationError("category", _l("Wählen Sie eine Kategorie aus der Liste."), "bad_category")
    values["lat"], values["lon"] = _point(lat, lon)
    values["image_key"], values["image_alt"] = images.check_image(actor, image_key, image_alt)

    def work() -> Proposal:
        with transaction():
            locked = load_consultation(consultation_id, for_update=True)
            check_allowed(actor, locked, rules.PROPOSE)
            assert actor.user is not None
            if values["image_key"] and images.attached(values["image_key"]):  # a double click got there first
                raise ParticipationError(
                    "image", _l("Dieses Bild gehört schon zu einem Vorschlag."), "image_taken", 409
                )
            state = ContributionState.PENDING if locked.premoderation else ContributionState.PUBLISHED
            if state == ContributionState.PUBLISHED:
                bump(locked, "proposal_count", 1)
            pseudonyms.ensure(actor, pseudonym)
            proposal = Proposal(
                consultation_id=locked.id,
                reference=next_reference(REFERENCE_PREFIX),
                author_id=actor.user.id,
                state=state.value,
                **values,
            )
            db.session.add(proposal)
            if state == ContributionState.PENDING:
                moderation.open_pending_case(locked, proposal)  # the moderators' queue
            audit.record(
                "participation.proposal_created",
                actor,
                target=proposal,
                subject_user_id=actor.user.id,
                consultation=locked.slug,
                reference=proposal.reference,
                state=proposal.state,
            )
        return proposal

    return pseudonyms.run_with_pseudonym(actor, pseudonym, work)


def _words(title: str) -> list[str]:
    words = [w for w in re.findall(r"\w+", title.casefold()) if len(w) >= 4 and w not in STOPWORDS]
    return list(dict.fromkeys(words))[:8]


def similar_proposals(consultation_id: int, title: str, *, limit: int = 5) -> list[Proposal]:
    """Published proposals of the consultation whose titles share words with `title`, most shared first."""
    words = _words(title or "")
    if not words:
        return []
    candidates = db.session.scalars(
        sa.select(Proposal)
        .where(
            Proposal.consultation_id == consultation_id,
            Proposal.state == ContributionState.PUBLISHED,
            sa.or_(*(Proposal.title.icontains(word, autoescape=True) for word in words)),
        )
        .order_by(Proposal.support_count.desc(), Proposal.id.desc())
        .limit(SIMILAR_CANDIDATES)
    )

    def shared(proposal: Proposal) -> int:
        text = proposal.title.casefold()
        return sum(1 for word in words if word in text)

    ranked = sorted((p for p in candidates if shared(p)), key=lambda p: (-shared(p), -p.support_count, -p.id))
    return ranked[:limit]


def _with_names(viewer_id: Any) -> Any:
    """Proposals with the pseudonym each appears under and whether the viewer supports it, in the same query.
    `viewer_id`: a value, a bound parameter, or None (signed out)."""
    columns: list[Any] = [Proposal, Pseudonym.name]
    if viewer_id is not None:
        supports = sa.exists().where(Support.proposal_id == Proposal.id, Support.user_id == viewer_id)
        columns.append(supports.label("supported"))
    return sa.select(*columns).outerjoin(Pseudonym, Pseudonym.user_id == Proposal.author_id)


def _item(actor: Actor, row: Any) -> ProposalItem:
    proposal, name = row[0], row[1]
    viewer = actor.user.id if actor.user else None
    names = {proposal.author_id: name} if name is not None and proposal.author_id is not None else {}
    supported = viewer is not None and bool(row[2])
    return ProposalItem(
        proposal, shown_name(proposal.author_id, names), supported, viewer is not None and proposal.author_id == viewer
    )


def list_proposals(
    actor: Actor,
    consultation_id: int,
    *,
    order: str = "newest",
    category: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
    answered: bool | None = None,
) -> Page[ProposalItem]:
    """One page of the consultation's proposals: "newest" (created_at desc, id desc) or "supported"
    (support_count desc, id desc). The viewer's own pending proposals are included. Constant queries per page.

    Under "supported", counts that change while someone pages can move a proposal across the page boundary;
    "newest" never skips or repeats one."""
    if order not in ORDERS:
        raise ParticipationError("order", _l("Diese Sortierung gibt es nicht."), "bad_order", 400)
    consultation = visible_consultation(actor, consultation_id)
    size = page_size(limit)
    viewer = actor.user.id if actor.user else None
    query = _with_names(viewer).where(Proposal.consultation_id == consultation.id, _visible_to(viewer))
    if category:
        query = query.where(Proposal.category == category)
    if answered is not None:  # with or without the city's official answer (participation.services.answers)
        query = query.where(Proposal.answer_status.is_not(None) if answered else Proposal.answer_status.is_(None))
    if order == "newest":
        after = decode_cursor(cursor, str, int)
        if after is not None:
            try:
                created = as_utc(datetime.fromisoformat(after[0]))
            except (ValueError, OverflowError):  # not a time, or one beyond year 9999 once in UTC
                raise ParticipationError("cursor", _l("Diese Seite gibt es nicht."), "bad_cursor", 400) from None
            query = query.where(
                sa.or_(Proposal.created_at < created, sa.and_(Proposal.created_at == created, Proposal.id < after[1]))
            )
        query = query.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    else:
        after = decode_cursor(cursor, int, int)
        if after is not None:
            query = query.where(
                sa.or_(
                    Proposal.support_count < after[0],
                    sa.and_(Proposal.support_count == after[0], Proposal.id < after[1]),
                )
            )
        query = query.order_by(Proposal.support_count.desc(), Proposal.id.desc())
    rows = db.session.execute(query.limit(size + 1)).all()
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1][0]
        next_cursor = (
            encode_cursor(last.created_at.isoformat(), last.id)
            if order == "newest"
            else encode_cursor(last.support_count, last.id)
        )
    return Page([_item(actor, row) for row in rows], next_cursor)


def get_proposal(actor: Actor, proposal_id: int) -> ProposalItem:
    """A proposal for its page: published ones for everyone; pending or hidden ones for their author, the
    consultation's managers and moderators (anyone else: 404)."""
    return _get(actor, "id", proposal_id)


def get_by_reference(actor: Actor, reference: str, *, consultation_loaded: bool = False) -> ProposalItem:
    """The proposal with this reference (VOR-2026-000042), under the same rules as `get_proposal`.
    `consultation_loaded`: the caller has its consultation in this session already (not read again)."""
    return _get(actor, "reference", normal_reference(reference), with_consultation=not consultation_loaded)


def normal_reference(reference: str) -> str:
    """A proposal's reference as stored, from what was typed or linked (vor-2026-000042 → VOR-2026-000042)."""
    return reference.strip().upper()


@functools.cache
def _get_statement(by: str, signed_in: bool, with_consultation: bool) -> Any:
    """Built once per kind: every proposal page asks it (building the expression cost more CPU than running it).
    With the consultation joined (kept by the proposal, so later reads of it in this request find it loaded)
    unless the caller has it already, the author's pseudonym and the viewer's support."""
    key: Any = sa.bindparam("key")
    query = _with_names(sa.bindparam("viewer") if signed_in else None).where(
        (Proposal.id if by == "id" else Proposal.reference) == key
    )
    return query.options(joinedload(Proposal.consultation)) if with_consultation else query


def _get(actor: Actor, by: str, key: Any, *, with_consultation: bool = True) -> ProposalItem:
    viewer = actor.user.id if actor.user else None
    values = {"key": key} if viewer is None else {"key": key, "viewer": viewer}
    row = db.session.execute(_get_statement(by, viewer is not None, with_consultation), values).first()
    if row is None:
        raise NotFound()
    proposal = row[0]
    consultation: Consultation = visible_consultation(actor, proposal.consultation_id)
    if proposal.state != ContributionState.PUBLISHED:
        own = viewer is not None and proposal.author_id == viewer
        staff = rules.is_manager(actor, consultation.department_id) or (
            actor.token is None and actor.has_role("moderator")
        )
        if not (own or staff):
            raise NotFound()
    return _item(actor, row)
