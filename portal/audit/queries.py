"""Reading the audit trail: the filtered listing for platform admins and the DPO, and the citizen's own log.

Both are read-only use cases; the permission check for the admin listing lives here (the route's access
rule is the outer fence), and a citizen can only ever get the events about themselves.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden

from portal.accounts.models import User
from portal.actors import Actor
from portal.audit import registry, sequencer
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.departments.models import Department
from portal.extensions import db
from portal.inputs import parse_int
from portal.timeutil import BERLIN

AUDIT_READER_ROLES = ("platform_admin", "dpo")
ADMIN_PAGE_SIZE = 50
CITIZEN_PAGE_SIZE = 25
OUTCOMES = ("success", "failure", "denied")

# What an action means, in words a citizen understands. Services add theirs with describe_action().
_CITIZEN_TEXTS: dict[str, Any] = {
    "account.register": _l("Konto registriert"),
    "account.email_verified": _l("E-Mail-Adresse bestätigt"),
    "account.verification_resent": _l("Bestätigungslink erneut angefordert"),
    "account.login": _l("Anmeldung"),
    "account.logout": _l("Abmeldung"),
    "account.locked": _l("Anmeldung vorübergehend gesperrt"),
    "account.password_reset_requested": _l("Zurücksetzen des Passworts angefordert"),
    "account.password_changed": _l("Passwort geändert"),
    "account.totp_enabled": _l("Zwei-Faktor-Anmeldung eingeschaltet"),
    "account.totp_disabled": _l("Zwei-Faktor-Anmeldung ausgeschaltet"),
    "account.recovery_code_used": _l("Wiederherstellungscode verwendet"),
    "account.recovery_codes_generated": _l("Neue Wiederherstellungscodes erstellt"),
    "account.session_revoked": _l("Angemeldete Sitzung beendet"),
    "account.profile_updated": _l("Profildaten geändert"),
    "account.data_exported": _l("Ihre gespeicherten Daten heruntergeladen"),
    "account.deleted": _l("Konto gelöscht"),
    "account.oidc_linked": _l("Externes Nutzerkonto (z. B. BundID) verknüpft"),
    "role.granted": _l("Berechtigung erteilt"),
    "role.revoked": _l("Berechtigung entzogen"),
    "invitation.created": _l("Einladung verschickt"),
    "invitation.accepted": _l("Einladung angenommen"),
    "invitation.revoked": _l("Einladung zurückgezogen"),
    "organisation.created": _l("Unternehmenskonto angelegt"),
    "organisation.member_removed": _l("Mitgliedschaft in einem Unternehmenskonto beendet"),
    "organisation.acting_changed": _l("Handeln für ein Unternehmen begonnen oder beendet"),
    "organisation.ownership_transferred": _l("Inhaberschaft eines Unternehmenskontos übergeben"),
    "token.created": _l("Zugang für ein Fachverfahren (API) angelegt"),
    "token.revoked": _l("Zugang für ein Fachverfahren (API) widerrufen"),
    "token.used": _l("Zugang für ein Fachverfahren (API) verwendet"),
    "department.saved": _l("Angaben eines Amts gespeichert"),
    "location.saved": _l("Angaben eines Standorts gespeichert"),
    "catalogue.saved": _l("Angaben einer Dienstleistung gespeichert"),
    "feedback.accessibility": _l("Rückmeldung zur Barrierefreiheit gesendet"),
    "audit.checkpoint": _l("Prüfpunkt des Protokolls erstellt"),
    "mail.message_viewed": _l("Inhalt einer E-Mail-Nachricht von der Administration eingesehen"),
    "mail.message_requeued": _l("E-Mail-Nachricht erneut zum Versand gegeben"),
    "demo.loaded": _l("Beispieldaten geladen"),
}
OUTCOME_TEXTS: dict[str, Any] = {
    "success": _l("erfolgreich"),
    "failure": _l("fehlgeschlagen"),
    "denied": _l("abgelehnt"),
}


def describe_action(action: str, text: Any) -> None:
    """Let a service give its own audit action a plain-language German description (lazy_gettext)."""
    _CITIZEN_TEXTS[action] = text


def action_text(action: str) -> Any:
    text = _CITIZEN_TEXTS.get(action)
    if text is not None:
        return text
    return _l("Sonstiger Vorgang (%(action)s)", action=action)


@dataclass(frozen=True)
class AuditFilter:
    action_prefix: str = ""
    actor: str = ""  # a user id, "token:<id>", or an email address
    target_type: str = ""
    target_id: str = ""
    subject_user_id: int | None = None
    outcome: str = ""
    date_from: date | None = None  # calendar days in Europe/Berlin, both inclusive
    date_to: date | None = None


class PageNumbers:
    """The page arithmetic of a listing with `total`, `page` and `per_page` (what audit/_pagination.html reads);
    the services' own listings mix it in too."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class EventPage(PageNumbers):
    items: list[AuditEvent]
    total: int
    page: int
    per_page: int


@dataclass
class ChainStatus:
    last_seq: int
    latest_checkpoint: AuditCheckpoint | None
    events_since_checkpoint: int = field(default=0)


@dataclass
class AdminOverview:
    events: EventPage
    status: ChainStatus


@dataclass(frozen=True)
class CitizenEvent:
    """One line of the citizen's log: what, when, who, with what result, and (when the service recorded them)
    why, on which legal basis and by which office — no internal details."""

    seq: int
    occurred_at: datetime
    text: Any
    actor_text: Any
    outcome: str
    outcome_text: Any
    purpose: str | None = None
    legal_basis: str | None = None
    department: str | None = None


def _berlin_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BERLIN)


def _resolve_actor(value: str) -> str:
    """Admins may type an email address; the trail stores the user id."""
    value = value.strip()
    if "@" not in value:
        return value
    user_id = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == value.lower()))
    return str(user_id) if user_id is not None else "-"


def _conditions(filters: AuditFilter) -> list[Any]:
    where: list[Any] = []
    if filters.action_prefix.strip():
        where.append(AuditEvent.action.startswith(filters.action_prefix.strip(), autoescape=True))
    if filters.actor.strip():
        where.append(AuditEvent.actor_id == _resolve_actor(filters.actor))
    if filters.target_type.strip():
        where.append(AuditEvent.target_type == filters.target_type.strip())
    if filters.target_id.strip():
        where.append(AuditEvent.target_id == filters.target_id.strip())
    if filters.subject_user_id is not None:
        where.append(AuditEvent.subject_user_id == filters.subject_user_id)
    if filters.outcome:
        where.append(AuditEvent.outcome == filters.outcome)
    if filters.date_from is not None:
        where.append(AuditEvent.occurred_at >= _berlin_midnight(filters.date_from))
    if filters.date_to is not None:
        where.append(AuditEvent.occurred_at < _berlin_midnight(filters.date_to + timedelta(days=1)))
    return where


def _page(where: list[Any], page: int, per_page: int) -> EventPage:
    if where:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*where)) or 0
    else:
        # seq has no gaps (verify checks it), so the highest seq is the count: an index lookup instead of a
        # scan of millions of rows on every visit of the unfiltered page.
        total = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    query = sa.select(AuditEvent).where(*where).order_by(AuditEvent.seq.desc())
    items = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    return EventPage(items=items, total=total, page=page, per_page=per_page)


def can_read_trail(actor: Actor) -> bool:
    return any(actor.has_role(role) for role in AUDIT_READER_ROLES)


def list_events(actor: Actor, filters: AuditFilter, page: int = 1, per_page: int = ADMIN_PAGE_SIZE) -> EventPage:
    """The filtered trail, newest first. Only platform admins and the data protection officer may read it."""
    if not can_read_trail(actor):
        raise Forbidden()
    sequencer.catch_up()
    return _page(_conditions(filters), page, per_page)


def chain_status() -> ChainStatus:
    """The chain's end and its latest checkpoint (callers catch up with the queue first)."""
    last = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0
    checkpoint = db.session.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))
    since = last - checkpoint.seq if checkpoint is not None else last
    return ChainStatus(last_seq=last, latest_checkpoint=checkpoint, events_since_checkpoint=since)


def admin_overview(actor: Actor, filters: AuditFilter, page: int = 1) -> AdminOverview:
    """The admin page: one page of filtered events and the state of the chain (for the "Kette prüfen" hint)."""
    events = list_events(actor, filters, page)
    return AdminOverview(events=events, status=chain_status())


def _actor_text(event: AuditEvent, user_id: int) -> Any:
    if event.actor_type == "user" and event.actor_id == str(user_id):
        return _l("Sie selbst")
    if event.actor_type == "user":
        return _l("Eine andere Person, z. B. Mitarbeitende der Stadtverwaltung")
    if event.actor_type == "client":
        return _l("Ein angebundenes Fachverfahren")
    if event.actor_type == "system":
        return _l("Das Stadtportal automatisch")
    return _l("Jemand ohne Anmeldung")


def details_of(event: AuditEvent) -> dict[str, Any]:
    """The event's details as stored (canonical JSON); {} if they are not an object."""
    try:
        value = json.loads(event.details)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _department_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return parse_int(value)
    return None


def department_names(ids: set[int]) -> dict[int, str]:
    """Names of the departments with these ids, in one query (the citizen's list must not query per row)."""
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Department.id, Department.name).where(Department.id.in_(ids)))
    return {row.id: row.name for row in rows}


def citizen_line(event: AuditEvent, user_id: int, details: dict[str, Any], departments: dict[int, str]) -> CitizenEvent:
    """One event in the citizen's words, with purpose, legal basis and office from the well-known detail keys
    (portal.audit.registry). `departments` holds the names of the department ids in the details."""
    department_id = _department_id(details.get(registry.DEPARTMENT_ID))
    department = departments.get(department_id) if department_id is not None else None
    return CitizenEvent(
        seq=event.seq,
        occurred_at=event.occurred_at,
        text=action_text(event.action),
        actor_text=_actor_text(event, user_id),
        outcome=event.outcome,
        outcome_text=OUTCOME_TEXTS.get(event.outcome, event.outcome),
        purpose=_text(details.get(registry.PURPOSE)),
        legal_basis=_text(details.get(registry.LEGAL_BASIS)),
        department=department or _text(details.get(registry.DEPARTMENT_NAME)),
    )


def citizen_lines(events: list[AuditEvent], user_id: int) -> list[CitizenEvent]:
    """The events in the citizen's words; department names come from one batched query."""
    details = [details_of(event) for event in events]
    ids = {i for d in details if (i := _department_id(d.get(registry.DEPARTMENT_ID))) is not None}
    names = department_names(ids)
    return [citizen_line(event, user_id, d, names) for event, d in zip(events, details, strict=True)]


def events_about(
    actor: Actor, page: int = 1, per_page: int = CITIZEN_PAGE_SIZE
) -> tuple[list[CitizenEvent], EventPage]:
    """The events concerning the signed-in person (subject_user_id), newest first, described in plain words.

    A bounded number of queries whatever the page holds: the count, the page, and one for department names.
    """
    if actor.user is None:
        raise Forbidden()
    user_id = actor.user.id
    sequencer.catch_up()  # the entry of what the person just did is on the chain, and so on this page
    listing = _page([AuditEvent.subject_user_id == user_id], page, per_page)
    return citizen_lines(listing.items, user_id), listing
