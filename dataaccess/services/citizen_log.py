"""The citizen's side of the access log ("Mein Konto → Datenzugriffe"): every access to their data and every
refused attempt of the last two years, in plain words, and their open once-only requests.

    page = entries_about(actor, page=1)      # LogPage: entries (LogEntry), total, page, pages, since
    open_requests_of(actor)                  # [OpenRequest]: what the person asked for and may revoke

A constant number of queries whatever a page holds (the citizen's page has to stay fast with 10,000 entries):
the count, the page of log rows, the departments, the datasets' fields and the latest checkpoint, each in one
query. Only the signed-in person's own entries, ever: the subject is taken from the actor, never from input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden

from dataaccess.models import AccessLog, AccessOutcome, CitizenRequest, Dataset, DatasetField, Purpose
from portal.actors import Actor
from portal.audit import sequencer
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.audit.queries import PageNumbers
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import utcnow

PAGE_SIZE = 25
HISTORY = timedelta(days=730)  # "for the last two years" (the page says so)

# A refused attempt in the citizen's words: what the rule that refused it means for them.
REFUSAL_TEXTS: dict[str, Any] = {
    "agreement_required": _l("Abgelehnt: Es gab keine gültige Vereinbarung für diesen Abruf."),
    "no_agreement": _l("Abgelehnt: Es gab keine gültige Vereinbarung für diesen Abruf."),
    "not_approved": _l("Abgelehnt: Die Vereinbarung war nicht freigegeben."),
    "not_in_force": _l("Abgelehnt: Die Vereinbarung galt noch nicht."),
    "expired": _l("Abgelehnt: Die Vereinbarung war abgelaufen."),
    "revoked": _l("Abgelehnt: Die Vereinbarung war widerrufen."),
    "superseded": _l("Abgelehnt: Die Vereinbarung war durch eine neuere Fassung ersetzt."),
    "wrong_department": _l("Abgelehnt: Die anfragende Stelle war für diesen Abruf nicht berechtigt."),
    "invalid_subject": _l("Abgelehnt: Die Anfrage war fehlerhaft."),
    "unknown_subject": _l("Abgelehnt: Die Anfrage war fehlerhaft."),
    "purpose_required": _l("Abgelehnt: Es war kein Zweck angegeben."),
    "purpose_not_allowed": _l("Abgelehnt: Für diesen Zweck ist der Abruf nicht erlaubt."),
    "fields_required": _l("Abgelehnt: Es war nicht angegeben, welche Angaben gebraucht werden."),
    "field_not_allowed": _l("Abgelehnt: Es wurden Angaben verlangt, die die Vereinbarung nicht erlaubt."),
    "invalid_input": _l("Abgelehnt: Die Anfrage war fehlerhaft."),
    "case_reference_required": _l("Abgelehnt: Es war kein Aktenzeichen angegeben."),
    "citizen_request_missing": _l("Abgelehnt: Sie hatten diesen Abruf nicht beantragt."),
    "rate_limited": _l("Abgelehnt: Zu viele Abrufe in kurzer Zeit."),
}
GRANTED_TEXT = _l("Abgerufen: Die Angaben wurden übermittelt.")
UNKNOWN_REFUSAL_TEXT = _l("Abgelehnt: Es wurden keine Daten übermittelt.")


@dataclass(frozen=True)
class LogEntry:
    """One access (or refused attempt) as the citizen reads it."""

    id: int
    seq: (
        int | None
    )  # the audit event's place in the hash chain (/konto/protokoll/<seq> proves it); None: not yet chained
    occurred_at: datetime
    granted: bool
    refusal_code: str | None
    outcome_text: str
    consumer: str | None  # the department that read (None: a caller that was not admitted)
    owner: str | None  # the department whose data it is
    dataset: str | None  # the dataset's name
    fields: list[str]  # labels of the fields returned (granted) or asked for (refused)
    field_names: list[str]
    purpose: str | None  # the purpose's label at the time
    purpose_code: str | None
    legal_basis: str | None  # the agreement's citation
    case_reference: str | None
    agreement: str | None  # "DZV-2026-000001 v1"
    by_machine: bool  # a department's specialist system (API client), not a person
    record_count: int
    sealed: bool  # covered by a signed checkpoint already

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "audit_seq": self.seq,
            "occurred_at": self.occurred_at,
            "outcome": AccessOutcome.GRANTED.value if self.granted else AccessOutcome.REFUSED.value,
            "refusal_code": self.refusal_code,
            "outcome_text": self.outcome_text,
            "department": self.consumer,
            "owner_department": self.owner,
            "dataset": self.dataset,
            "fields": [{"name": n, "label": label} for n, label in zip(self.field_names, self.fields, strict=True)],
            "purpose": self.purpose,
            "purpose_code": self.purpose_code,
            "legal_basis": self.legal_basis,
            "case_reference": self.case_reference,
            "agreement": self.agreement,
            "by_machine": self.by_machine,
            "record_count": self.record_count,
            "sealed": self.sealed,
        }


@dataclass(frozen=True)
class LogPage(PageNumbers):
    entries: list[LogEntry]
    total: int
    page: int
    per_page: int
    since: datetime


def _user_id(actor: Actor) -> int:
    if actor.user is None or actor.token is not None:
        raise Forbidden()
    return actor.user.id


def outcome_text(refusal_code: str | None) -> str:
    if refusal_code is None:
        return str(GRANTED_TEXT)
    return str(REFUSAL_TEXTS.get(refusal_code, UNKNOWN_REFUSAL_TEXT))


# A row's audit event: by seq (rows written before migration 0035) or by its key, once the sequencer chained it.
EVENT_SEQ = sa.func.coalesce(
    AccessLog.audit_seq,
    sa.select(AuditEvent.seq).where(AuditEvent.event_key == AccessLog.audit_event_key).scalar_subquery(),
).label("seq")


def _with_seq(query: sa.Select[Any, Any]) -> list[tuple[AccessLog, int | None]]:
    return [(row[0], row[1]) for row in db.session.execute(query)]


def entries_about(actor: Actor, page: int = 1, per_page: int = PAGE_SIZE) -> LogPage:
    """The signed-in person's access-log entries of the last two years, newest first (five queries)."""
    user_id = _user_id(actor)
    sequencer.catch_up()  # an access just made is on the chain, with its seq, when its entry is shown
    since = utcnow() - HISTORY
    where = [AccessLog.subject_user_id == user_id, AccessLog.occurred_at >= since]
    total = db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(*where)) or 0
    page = max(1, min(int(page), max(1, math.ceil(total / per_page))))
    rows = _with_seq(
        sa.select(AccessLog, EVENT_SEQ)
        .where(*where)
        .order_by(AccessLog.occurred_at.desc(), AccessLog.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return LogPage(_entries(rows), total, page, per_page, since)


def all_entries_of(user_id: int) -> list[LogEntry]:
    """Every entry about the person, oldest first, with no time limit (the GDPR export)."""
    sequencer.catch_up()
    rows = _with_seq(
        sa.select(AccessLog, EVENT_SEQ)
        .where(AccessLog.subject_user_id == user_id)
        .order_by(AccessLog.occurred_at, AccessLog.id)
    )
    return _entries(rows)


def _pairs(query: sa.Select[Any, Any]) -> dict[Any, Any]:
    return {row[0]: row[1] for row in db.session.execute(query)}


def _entries(found: list[tuple[AccessLog, int | None]]) -> list[LogEntry]:
    if not found:
        return []
    rows = [row for row, _seq in found]
    department_ids = {d for row in rows for d in (row.consumer_department_id, row.owner_department_id) if d}
    departments = _pairs(sa.select(Department.id, Department.name).where(Department.id.in_(department_ids)))
    dataset_ids = {row.dataset_id for row in rows if row.dataset_id is not None}
    dataset_names: dict[int, str] = {}
    labels: dict[tuple[int, str], str] = {}
    if dataset_ids:
        dataset_names = _pairs(sa.select(Dataset.id, Dataset.name).where(Dataset.id.in_(dataset_ids)))
        for dataset_id, name, label in db.session.execute(
            sa.select(DatasetField.dataset_id, DatasetField.name, DatasetField.label).where(
                DatasetField.dataset_id.in_(dataset_ids)
            )
        ):
            labels[(dataset_id, name)] = label
    sealed_up_to = db.session.scalar(sa.select(sa.func.max(AuditCheckpoint.seq))) or 0
    entries = []
    for row, seq in found:
        names = [str(name) for name in (row.fields or [])]
        entries.append(
            LogEntry(
                id=row.id,
                seq=seq,
                occurred_at=row.occurred_at,
                granted=row.outcome == AccessOutcome.GRANTED.value,
                refusal_code=row.refusal_code,
                outcome_text=outcome_text(row.refusal_code),
                consumer=departments.get(row.consumer_department_id) if row.consumer_department_id else None,
                owner=departments.get(row.owner_department_id) if row.owner_department_id else None,
                dataset=dataset_names.get(row.dataset_id) if row.dataset_id is not None else None,
                fields=[labels.get((row.dataset_id or 0, name), name) for name in names],
                field_names=names,
                purpose=row.purpose,
                purpose_code=row.purpose_code,
                legal_basis=row.legal_basis,
                case_reference=row.case_reference,
                agreement=(
                    f"{row.agreement_reference} v{row.agreement_version}"
                    if row.agreement_reference and row.agreement_version
                    else row.agreement_reference
                ),
                by_machine=row.actor_kind == "client",
                record_count=row.record_count,
                sealed=seq is not None and seq <= sealed_up_to,
            )
        )
    return entries


# --- the person's own once-only requests ----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenRequest:
    id: int
    created_at: datetime
    standing: bool
    consumer: str
    owner: str
    dataset: str
    purpose: str  # the purpose's label (its code if the catalogue no longer has it)
    case_reference: str | None


def _request_rows(user_id: int, *, open_only: bool) -> list[CitizenRequest]:
    query = (
        sa.select(CitizenRequest)
        .where(CitizenRequest.user_id == user_id)
        .options(
            selectinload(CitizenRequest.consumer_department),
            selectinload(CitizenRequest.dataset).selectinload(Dataset.department),
        )
        .order_by(CitizenRequest.created_at.desc(), CitizenRequest.id.desc())
    )
    if open_only:
        query = query.where(CitizenRequest.revoked_at.is_(None), CitizenRequest.used_at.is_(None))
    return list(db.session.scalars(query))


def _purpose_labels(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return _pairs(sa.select(Purpose.code, Purpose.label).where(Purpose.code.in_(codes)))


def open_requests_of(actor: Actor) -> list[OpenRequest]:
    """The person's requests that still let a department fetch their data (standing, or one-off not yet used)."""
    rows = _request_rows(_user_id(actor), open_only=True)
    labels = _purpose_labels({row.purpose_code for row in rows})
    return [
        OpenRequest(
            id=row.id,
            created_at=row.created_at,
            standing=row.standing,
            consumer=row.consumer_department.name,
            owner=row.dataset.department.name,
            dataset=row.dataset.name,
            purpose=labels.get(row.purpose_code, row.purpose_code),
            case_reference=row.case_reference,
        )
        for row in rows
    ]


def all_requests_of(user_id: int) -> list[dict[str, Any]]:
    """Every request of the person with its state (the GDPR export)."""
    rows = _request_rows(user_id, open_only=False)
    labels = _purpose_labels({row.purpose_code for row in rows})
    return [
        {
            "created_at": row.created_at,
            "standing": row.standing,
            "department": row.consumer_department.name,
            "owner_department": row.dataset.department.name,
            "dataset": row.dataset.name,
            "purpose": labels.get(row.purpose_code, row.purpose_code),
            "purpose_code": row.purpose_code,
            "case_reference": row.case_reference,
            "used_at": row.used_at,
            "revoked_at": row.revoked_at,
        }
        for row in rows
    ]
