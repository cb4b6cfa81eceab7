"""Consultations: drafted, published, closed and archived by the department's consultation managers (or a
platform admin); listed and read by everyone. Their timelines are in participation.services.phases.

A draft is invisible to the public. Texts may change while a consultation is a draft or published (every change
is audited); a closed or archived one stays as it was. Publishing needs at least one phase.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import Forbidden, NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import TITLE_MAX, Audience, Consultation, ConsultationState, Phase
from participation.services.common import check_changeable, managed_consultation
from participation.text import clean_html, optional_line, plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction

SUMMARY_MAX = 1000
CATEGORY_MAX = 100
CATEGORIES_MAX = 30
LIST_STATUSES = ("open", "upcoming", "closed")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# Fixed first segments of addresses under /beteiligung/ (/beteiligung/kommentare/12, …/melden/…, …/moderation/…,
# and "konto" kept free): a consultation's address must never be one of them, or it would shadow the fixed
# route or be shadowed by it. tests/participation/test_consultations.py checks this against the URL map.
RESERVED_SLUGS = frozenset({"bilder", "kommentare", "konto", "melden", "moderation"})


@dataclass
class ConsultationDraft:
    """What a manager writes about a consultation (the form's fields, or an API body)."""

    title: str
    summary: str = ""
    body: str = ""  # HTML; only a safe subset is kept (participation.text.clean_html)
    audience: str = Audience.SIGNED_IN.value
    premoderation: bool = False
    district: str | None = None
    topic: str | None = None
    categories: list[str] = field(default_factory=list)
    contact_name: str = ""
    contact_email: str = ""
    support_threshold: int | None = None
    area_geojson: str | None = None  # one polygon inside the city, as GeoJSON text


def _values(draft: ConsultationDraft) -> dict[str, Any]:
    if draft.audience not in {a.value for a in Audience}:
        raise ParticipationError("audience", _l("Wählen Sie, wer teilnehmen darf."), "bad_audience")
    email = plain_text(draft.contact_email, "contact_email", 254, required=False, multiline=False)
    if email and not _EMAIL.fullmatch(email):
        raise ParticipationError("contact_email", _l("Geben Sie eine E-Mail-Adresse an."), "bad_email")
    threshold = draft.support_threshold
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1):
        raise ParticipationError("support_threshold", _l("Geben Sie eine ganze Zahl ab 1 an."), "bad_threshold")
    categories: list[str] = []
    given = draft.categories.splitlines() if isinstance(draft.categories, str) else draft.categories or []
    for raw in given:
        category = plain_text(raw, "categories", CATEGORY_MAX, required=False, multiline=False)
        if category and category not in categories:
            categories.append(category)
    if len(categories) > CATEGORIES_MAX:
        raise ParticipationError("categories", _l("Höchstens %(n)s Kategorien.", n=CATEGORIES_MAX), "too_many")
    return {
        "title": plain_text(draft.title, "title", TITLE_MAX, multiline=False),
        "summary": plain_text(draft.summary, "summary", SUMMARY_MAX, required=False),
        "body": clean_html(draft.body, "body"),
        "audience": draft.audience,
        "premoderation": bool(draft.premoderation),
        "district": optional_line(draft.district, "district", 100),
        "topic": optional_line(draft.topic, "topic", 100),
        "categories": categories,
        "contact_name": plain_text(draft.contact_name, "contact_name", 200, required=False, multiline=False),
        "contact_email": email,
        "support_threshold": threshold,
        "area_geojson": _area(draft.area_geojson),
    }


def _area(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    from portal.maps import geojson
    from portal.maps import settings as map_settings

    try:
        geometry = geojson.parse_geometry(str(value), types=(geojson.POLYGON,), bounds=map_settings.current().bounds)
    except geojson.GeoJSONError as error:
        raise ParticipationError("area_geojson", error.message, "bad_area") from None
    return geometry.to_json()


def _slug_for(title: str) -> str:
    text = unicodedata.normalize("NFKD", title.lower().translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80].strip("-") or "verfahren"
    taken = set(db.session.scalars(sa.select(Consultation.slug).where(Consultation.slug.like(f"{base}%"))))
    taken |= RESERVED_SLUGS  # "kommentare" becomes "kommentare-2"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_consultation(actor: Actor, department_id: int, draft: ConsultationDraft) -> Consultation:
    """Draft a consultation of the department; only its consultation managers (or a platform admin) may."""
    if db.session.get(Department, department_id) is None:
        raise ParticipationError("department_id", _l("Dieses Amt gibt es nicht."), "unknown_department")
    if not rules.is_manager(actor, department_id):
        raise Forbidden()
    values = _values(draft)
    with transaction():
        consultation = Consultation(
            slug=_slug_for(values["title"]),
            department_id=department_id,
            created_by_id=actor.user.id if actor.user else None,
            **values,
        )
        db.session.add(consultation)
        audit.record(
            "participation.consultation_created",
            actor,
            target=consultation,
            slug=consultation.slug,
            title=consultation.title,
            department_id=department_id,
        )
    return consultation


def update_consultation(actor: Actor, consultation_id: int, draft: ConsultationDraft) -> Consultation:
    """Change a draft or published consultation's texts and settings; its slug (its address) stays."""
    values = _values(draft)
    with transaction():
        consultation = managed_consultation(actor, consultation_id)
        check_changeable(consultation)
        for name, value in values.items():
            setattr(consultation, name, value)
        consultation.updated_at = utcnow()
        audit.record(
            "participation.consultation_updated",
            actor,
            target=consultation,
            slug=consultation.slug,
            state=consultation.state,
        )
    return consultation


def _move(actor: Actor, consultation_id: int, from_state: str, to_state: str, action: str) -> Consultation:
    with transaction():
        consultation = managed_consultation(actor, consultation_id)
        if consultation.state != from_state:
            raise ParticipationError("state", _l("Das ist in diesem Stand nicht möglich."), "wrong_state", 409)
        if to_state == ConsultationState.PUBLISHED and not consultation.phases:
            raise ParticipationError(
                "phases", _l("Legen Sie vor dem Veröffentlichen mindestens eine Phase an."), "no_phases"
            )
        now = utcnow()
        consultation.state = to_state
        consultation.updated_at = now
        if to_state == ConsultationState.PUBLISHED:
            consultation.published_at = now
        elif to_state == ConsultationState.CLOSED:
            consultation.closed_at = now
        else:
            consultation.archived_at = now
        audit.record(action, actor, target=consultation, slug=consultation.slug)
    return consultation


def publish(actor: Actor, consultation_id: int) -> Consultation:
    """Make a draft public; what is open follows its phases from now on."""
    return _move(
        actor,
        consultation_id,
        ConsultationState.DRAFT,
        ConsultationState.PUBLISHED,
        "participation.consultation_published",
    )


def close(actor: Actor, consultation_id: int) -> Consultation:
    """End a published consultation, whatever its phases say: nothing can be added any more."""
    return _move(
        actor,
        consultation_id,
        ConsultationState.PUBLISHED,
        ConsultationState.CLOSED,
        "participation.consultation_closed",
    )


def archive(actor: Actor, consultation_id: int) -> Consultation:
    """Move a closed consultation to the archive: out of the lists, still readable at its address."""
    return _move(
        actor,
        consultation_id,
        ConsultationState.CLOSED,
        ConsultationState.ARCHIVED,
        "participation.consultation_archived",
    )


# --- reading ------------------------------------------------------------------------------------------------


def list_consultations(
    status: str = "open",
    *,
    district: str | None = None,
    topic: str | None = None,
    now: datetime | None = None,
) -> list[Consultation]:
    """The public list: "open" (a phase running, closing soonest first), "upcoming" (first phase still ahead,
    starting soonest first) or "closed" (closed by hand or past the last phase, most recent first). Phases are
    loaded with them (two queries in all)."""
    if status not in LIST_STATUSES:
        raise ParticipationError("status", _l("Diese Auswahl gibt es nicht."), "bad_status", 400)
    now = now or utcnow()
    span = (
        sa.select(
            Phase.consultation_id,
            sa.func.min(Phase.starts_at).label("starts_at"),
            sa.func.max(Phase.ends_at).label("ends_at"),
        )
        .group_by(Phase.consultation_id)
        .subquery()
    )
    query = sa.select(Consultation).join(span, span.c.consultation_id == Consultation.id)
    published = Consultation.state == ConsultationState.PUBLISHED
    if status == "open":
        query = query.where(published, span.c.starts_at <= now, span.c.ends_at > now)
        query = query.order_by(span.c.ends_at, Consultation.id)
    elif status == "upcoming":
        query = query.where(published, span.c.starts_at > now).order_by(span.c.starts_at, Consultation.id)
    else:
        query = query.where(
            sa.or_(Consultation.state == ConsultationState.CLOSED, sa.and_(published, span.c.ends_at <= now))
        ).order_by(sa.func.coalesce(Consultation.closed_at, span.c.ends_at).desc(), Consultation.id.desc())
    if district:
        query = query.where(Consultation.district == district)
    if topic:
        query = query.where(Consultation.topic == topic)
    return list(db.session.scalars(query.options(selectinload(Consultation.phases))))


def filter_options() -> tuple[list[str], list[str]]:
    """The districts and topics of public consultations, for the list's filters."""
    public = Consultation.state.in_([ConsultationState.PUBLISHED, ConsultationState.CLOSED])
    districts = db.session.scalars(
        sa.select(Consultation.district).where(public, Consultation.district.is_not(None)).distinct()
    )
    topics = db.session.scalars(sa.select(Consultation.topic).where(public, Consultation.topic.is_not(None)).distinct())
    return sorted(d for d in districts if d), sorted(t for t in topics if t)


@dataclass(frozen=True)
class ListVersion:
    """What the public lists of consultations depend on, read before them (participation.cached_pages)."""

    key: str  # changes with any consultation's cache token, and when one is added or removed
    next_change: datetime | None  # the next start or end of a phase: a consultation then moves between lists


def list_version(now: datetime | None = None) -> ListVersion:
    """The lists' version (two queries)."""
    now = now or utcnow()
    tokens = db.session.execute(sa.select(Consultation.id, Consultation.cache_token).order_by(Consultation.id))
    digest = hashlib.sha256(";".join(f"{i}:{t}" for i, t in tokens).encode()).hexdigest()[:32]
    starts = sa.select(sa.func.min(Phase.starts_at)).where(Phase.starts_at > now).scalar_subquery()
    ends = sa.select(sa.func.min(Phase.ends_at)).where(Phase.ends_at > now).scalar_subquery()
    ahead = [as_utc(t) for t in db.session.execute(sa.select(starts, ends)).one() if t is not None]
    return ListVersion(digest, min(ahead, default=None))


def by_slug_statement() -> sa.Select:
    """The consultation at its address (bound parameter `slug`) with its phases and department."""
    return (
        sa.select(Consultation)
        .where(Consultation.slug == sa.bindparam("slug"))
        .options(joinedload(Consultation.phases), joinedload(Consultation.department))
    )


# Built once: every page of a consultation starts with it.
_BY_SLUG = by_slug_statement()


def get_by_slug(actor: Actor, slug: str) -> Consultation:
    """The consultation at its address, with its phases and department (one query); a draft only for its
    managers (others get 404)."""
    return shown_to(actor, db.session.scalars(_BY_SLUG, {"slug": slug}).unique().one_or_none())


def shown_to(actor: Actor, consultation: Consultation | None) -> Consultation:
    """The consultation found at an address, if the actor may see it (a draft only its managers): else 404."""
    if consultation is None:
        raise NotFound()
    if consultation.state == ConsultationState.DRAFT and not rules.is_manager(actor, consultation.department_id):
        raise NotFound()
    return consultation


def managed_consultations(actor: Actor) -> list[Consultation]:
    """Every consultation the actor manages, in all states, newest first (a platform admin: all); phases and
    department loaded alongside (three queries for the whole list)."""
    if actor.user is None or actor.token is not None:
        raise Forbidden()
    query = (
        sa.select(Consultation)
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .options(selectinload(Consultation.phases), selectinload(Consultation.department))
    )
    if not actor.has_role(rules.ADMIN_ROLE):
        departments = [m.department_id for m in actor.user.memberships if m.role == rules.MANAGER_ROLE]
        if not departments:
            raise Forbidden()
        query = query.where(Consultation.department_id.in_(departments))
    return list(db.session.scalars(query))


def managed_departments(actor: Actor) -> list[Department]:
    """The departments the actor may draft consultations for: where they are consultation manager (a platform
    admin: every department), by name."""
    if actor.user is None or actor.token is not None:
        return []
    query = sa.select(Department).order_by(Department.name)
    if not actor.has_role(rules.ADMIN_ROLE):
        ids = {m.department_id for m in actor.user.memberships if m.role == rules.MANAGER_ROLE}
        if not ids:
            return []
        query = query.where(Department.id.in_(ids))
    return list(db.session.scalars(query))


def get_managed(actor: Actor, consultation_id: int) -> Consultation:
    """A consultation for its managers' pages, in any state, with its phases: 404 if there is none, 403 for
    anyone who does not manage it."""
    consultation = db.session.scalar(
        sa.select(Consultation).where(Consultation.id == consultation_id).options(selectinload(Consultation.phases))
    )
    if consultation is None:
        raise NotFound()
    if not rules.is_manager(actor, consultation.department_id):
        raise Forbidden()
    return consultation
