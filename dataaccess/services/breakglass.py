"""Break-glass ("Notfallzugriff"): an official reads another department's data in an emergency, without an
agreement that covers it.

    session = open_session(actor, department_id=ordnungsamt.id, dataset_id=permits.id,
                           category="danger_to_life", reason="Einsturzgefahr, Bewohner ...", case_reference="OA-17")
    result = read(actor, session.id, subject=citizen.id, fields=["vorhaben", "status"])   # AccessResult
    close_review(dpo_actor, session.id, finding="unjustified", note="Keine akute Gefahr erkennbar.")

Rules:
- Only a person who belongs to the consuming department opens one, for one dataset of another department,
  with a category from a fixed list and a reason in their own words. It lasts DATAACCESS_BREAKGLASS_MINUTES
  (default 60) from opening, or until the official ends it.
- Opening it alerts the owning department's data stewards and the dpo by mail, enqueued in the opening's own
  transaction (no emergency access without its alert), and opens the review the dpo must close.
- Every read goes through the one access function (dataaccess.services.access.read with `breakglass=`): the
  agreement's purpose, citizen-request and rate-limit rules do not apply, but membership of the consuming
  department, the time box and the dataset's own fields do; each read is logged (access log row with
  `breakglass_id`, audit event "dataaccess.breakglass_read"), so the citizen sees "Notfallzugriff" in their log.
- The dpo closes the review with a finding, justified or not justified, and a note; closing also ends a
  session that is still running. The official never reviews their own emergency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden, NotFound

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import DataAccessError
from dataaccess.models import AccessLog, BreakGlassCategory, BreakGlassSession, Dataset, ReviewFinding
from dataaccess.services.common import (
    DPO_ROLE,
    STEWARD_ROLE,
    clean_long_text,
    clean_text,
    is_dpo,
    is_person,
    is_steward_of,
    member_of,
)
from portal.accounts.models import DepartmentMembership, User, UserRole
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction

MINUTES_SETTING = "DATAACCESS_BREAKGLASS_MINUTES"
PURPOSE_CODE = "NOTFALL"
REASON_MIN = 20
REASON_MAX = 2000
NOTE_MAX = 2000
CASE_REFERENCE_MAX = 60

# The fixed categories: what the official says the emergency is, and the legal ground the log names for it.
CATEGORIES: dict[str, Any] = {
    BreakGlassCategory.DANGER_TO_LIFE.value: _l("Gefahr für Leib oder Leben"),
    BreakGlassCategory.PUBLIC_SAFETY.value: _l("Unmittelbar drohende Gefahr für die öffentliche Sicherheit"),
    BreakGlassCategory.COURT_ORDER.value: _l("Gerichtliche Anordnung"),
}
LEGAL_BASES: dict[str, str] = {
    BreakGlassCategory.DANGER_TO_LIFE.value: "Art. 6 Abs. 1 lit. d DSGVO (Schutz lebenswichtiger Interessen)",
    BreakGlassCategory.PUBLIC_SAFETY.value: (
        "Art. 6 Abs. 1 lit. e DSGVO i. V. m. Art. 23 Abs. 1 lit. c DSGVO (Abwehr von Gefahren für die öffentliche"
        " Sicherheit)"
    ),
    BreakGlassCategory.COURT_ORDER.value: (
        "Art. 6 Abs. 1 lit. c DSGVO (rechtliche Verpflichtung: gerichtliche Anordnung)"
    ),
}
FINDINGS: dict[str, Any] = {
    ReviewFinding.OPEN.value: _l("Prüfung offen"),
    ReviewFinding.JUSTIFIED.value: _l("gerechtfertigt"),
    ReviewFinding.UNJUSTIFIED.value: _l("nicht gerechtfertigt"),
}


def category_label(category: str) -> str:
    return str(CATEGORIES.get(category, category))


def purpose_text(category: str) -> str:
    """The purpose a citizen reads in their log for a read in an emergency of this category."""
    return _("Notfallzugriff: %(category)s", category=category_label(category))


def legal_basis(category: str) -> str:
    return LEGAL_BASES[category]


def minutes() -> int:
    return int(current_app.config.get(MINUTES_SETTING, 60))


# --- who may ----------------------------------------------------------------------------------------------


def departments_for(actor: Actor) -> list[Department]:
    """The departments the person reads for (any role there): where they may open an emergency access."""
    if not is_person(actor):
        return []
    assert actor.user is not None
    ids = sorted({m.department_id for m in actor.user.memberships})
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Department).where(Department.id.in_(ids)).order_by(Department.name)))


def datasets_for(department_ids: list[int]) -> list[Dataset]:
    """Active datasets another department owns (an office needs no emergency access to its own data)."""
    query = (
        sa.select(Dataset)
        .options(joinedload(Dataset.department))
        .where(Dataset.active.is_(True))
        .order_by(Dataset.name, Dataset.id)
    )
    if len(department_ids) == 1:
        query = query.where(Dataset.department_id != department_ids[0])
    return list(db.session.scalars(query).unique())


def may_see(actor: Actor, session: BreakGlassSession) -> bool:
    """The official, the dpo and the owning department's data stewards."""
    own = actor.user is not None and actor.user.id == session.user_id and is_person(actor)
    return own or is_dpo(actor) or is_steward_of(actor, session.dataset.department_id)


# --- opening and ending -----------------------------------------------------------------------------------


def open_session(
    actor: Actor,
    *,
    department_id: Any,
    dataset_id: Any,
    category: Any,
    reason: Any,
    case_reference: Any = None,
) -> BreakGlassSession:
    """Open an emergency access for the actor, reading for `department_id`; alerts the owner and the dpo."""
    if not is_person(actor):
        raise Forbidden()
    assert actor.user is not None
    department = db.session.get(Department, department_id) if isinstance(department_id, int) else None
    if department is None:
        raise DataAccessError("department_id", _("Wählen Sie das Amt, für das Sie lesen."), "unknown_department")
    if not member_of(actor, department.id):
        raise Forbidden()
    dataset = db.session.get(Dataset, dataset_id) if isinstance(dataset_id, int) else None
    if dataset is None or not dataset.active:
        raise DataAccessError("dataset_id", _("Wählen Sie den Datenbestand, den Sie lesen müssen."), "unknown_dataset")
    if dataset.department_id == department.id:
        raise DataAccessError(
            "dataset_id", _("Die eigenen Daten Ihres Amts brauchen keinen Notfallzugriff."), "same_department"
        )
    if category not in CATEGORIES:
        raise DataAccessError("category", _("Wählen Sie, welche Notlage vorliegt."), "bad_category")
    reason_text = clean_long_text(reason, "reason", REASON_MAX, required=True)
    if len(reason_text) < REASON_MIN:
        raise DataAccessError(
            "reason",
            _("Beschreiben Sie die Notlage in mindestens %(n)s Zeichen.", n=REASON_MIN),
            "reason_too_short",
        )
    case_text = clean_text(case_reference, "case_reference", CASE_REFERENCE_MAX, required=False) or None
    now = utcnow()
    with transaction():
        session = BreakGlassSession(
            user_id=actor.user.id,
            consumer_department_id=department.id,
            dataset_id=dataset.id,
            category=category,
            reason=reason_text,
            case_reference=case_text,
            opened_at=now,
            expires_at=now + timedelta(minutes=minutes()),
            finding=ReviewFinding.OPEN.value,
        )
        db.session.add(session)
        audit.record(
            "dataaccess.breakglass_opened",
            actor,
            target=session,
            department_id=department.id,
            department=department.name,
            owner_department_id=dataset.department_id,
            dataset=dataset.key,
            category=category,
            reason=reason_text,
            case_reference=case_text,
            expires_at=session.expires_at.isoformat(),
        )
        _alert(actor.user, session, department, dataset)
    return session


def alert_recipients(dataset: Dataset) -> list[User]:
    """The owning department's data stewards and every dpo (one query; deleted accounts left out)."""
    stewards = sa.select(DepartmentMembership.user_id).where(
        DepartmentMembership.department_id == dataset.department_id, DepartmentMembership.role == STEWARD_ROLE
    )
    dpos = sa.select(UserRole.user_id).where(UserRole.role == DPO_ROLE)
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.deleted_at.is_(None), sa.or_(User.id.in_(stewards), User.id.in_(dpos)))
            .order_by(User.id)
        )
    )


def _alert(official: User, session: BreakGlassSession, department: Department, dataset: Dataset) -> None:
    link = f"{current_app.config['BASE_URL'].rstrip('/')}/admin/datenzugriff/notfall/{session.id}"
    for recipient in alert_recipients(dataset):
        if recipient.id == official.id:
            continue
        enqueue(
            recipient.email,
            _l("Notfallzugriff auf „%(dataset)s“", dataset=dataset.name),
            "dataaccess_breakglass_alert",
            language=recipient.language,
            name=recipient.display_name or recipient.email,
            official=official.display_name or official.email,
            official_email=official.email,
            department_name=department.name,
            dataset_name=dataset.name,
            owner_name=dataset.department.name,
            category=CATEGORIES[session.category],
            reason=session.reason,
            case_reference=session.case_reference,
            opened_at=session.opened_at,
            expires_at=session.expires_at,
            link=link,
        )


def _lock(session_id: int) -> BreakGlassSession:
    session = db.session.scalar(
        sa.select(BreakGlassSession)
        .where(BreakGlassSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound()
    return session


def end_session(actor: Actor, session_id: int) -> BreakGlassSession:
    """The official ends their emergency access before its time runs out (nothing more can be read in it)."""
    session = get_session(session_id)
    if actor.user is None or actor.user.id != session.user_id or not is_person(actor):
        raise Forbidden()
    with transaction():
        session = _lock(session_id)
        if session.is_active(utcnow()):
            session.ended_at = utcnow()
            audit.record("dataaccess.breakglass_ended", actor, target=session, dataset=session.dataset.key)
    return session


def read(actor: Actor, session_id: int, subject: Any, fields: Any, case_reference: Any = None) -> Any:
    """Read in the emergency access: `dataaccess.services.access.read` with `breakglass=session_id`."""
    from dataaccess.services import access  # access imports this module for the texts above

    return access.read(actor, None, PURPOSE_CODE, case_reference, subject, fields, breakglass=session_id)


# --- the dpo's review --------------------------------------------------------------------------------------


def close_review(actor: Actor, session_id: int, *, finding: Any, note: Any) -> BreakGlassSession:
    """The dpo's finding on an emergency access; ends it if it still runs. Only the dpo, never the official."""
    session = get_session(session_id)
    if not is_dpo(actor):
        raise Forbidden()
    assert actor.user is not None
    if actor.user.id == session.user_id:
        raise DataAccessError(
            "finding", _("Ihren eigenen Notfallzugriff muss eine andere Person prüfen."), "own_review", 403
        )
    if finding not in (ReviewFinding.JUSTIFIED.value, ReviewFinding.UNJUSTIFIED.value):
        raise DataAccessError("finding", _("Wählen Sie, ob der Notfallzugriff gerechtfertigt war."), "bad_finding")
    note_text = clean_long_text(note, "note", NOTE_MAX, required=True)
    with transaction():
        session = _lock(session_id)
        if session.finding != ReviewFinding.OPEN.value:
            raise DataAccessError("finding", _("Diese Prüfung ist bereits abgeschlossen."), "review_closed", 409)
        now = utcnow()
        if session.is_active(now):
            session.ended_at = now
        session.finding = finding
        session.reviewed_by_id = actor.user.id
        session.reviewed_at = now
        session.review_note = note_text
        reads = db.session.scalar(
            sa.select(sa.func.count(AccessLog.id)).where(
                AccessLog.breakglass_id == session.id, AccessLog.outcome == "granted"
            )
        )
        audit.record(
            "dataaccess.breakglass_reviewed",
            actor,
            target=session,
            breakglass=session.id,
            finding=finding,
            note=note_text,
            reads=int(reads or 0),
            official_id=session.user_id,
            department_id=session.consumer_department_id,
        )
    return session


# --- reading ------------------------------------------------------------------------------------------------


def get_session(session_id: int) -> BreakGlassSession:
    session = db.session.get(BreakGlassSession, session_id)
    if session is None:
        raise NotFound()
    return session


def get_session_for(actor: Actor, session_id: int) -> BreakGlassSession:
    session = get_session(session_id)
    if not may_see(actor, session):
        raise Forbidden()
    return session


def own_sessions(actor: Actor, limit: int = 20) -> list[BreakGlassSession]:
    """The person's latest emergency accesses, newest first."""
    if actor.user is None:
        return []
    return list(
        db.session.scalars(
            sa.select(BreakGlassSession)
            .options(joinedload(BreakGlassSession.dataset), joinedload(BreakGlassSession.consumer_department))
            .where(BreakGlassSession.user_id == actor.user.id)
            .order_by(BreakGlassSession.opened_at.desc(), BreakGlassSession.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class ReviewRow:
    session: BreakGlassSession
    reads: int  # granted reads in it
    subjects: int  # distinct people or case subjects read


def reviews(actor: Actor, *, open_only: bool = True, limit: int = 100) -> list[ReviewRow]:
    """Emergency accesses for the dpo to review (oldest first), with their read counts: two queries."""
    if not is_dpo(actor):
        raise Forbidden()
    query = sa.select(BreakGlassSession).options(
        joinedload(BreakGlassSession.dataset).joinedload(Dataset.department),
        joinedload(BreakGlassSession.consumer_department),
        joinedload(BreakGlassSession.user),
    )
    if open_only:
        query = query.where(BreakGlassSession.finding == ReviewFinding.OPEN.value).order_by(
            BreakGlassSession.opened_at, BreakGlassSession.id
        )
    else:
        query = query.order_by(BreakGlassSession.opened_at.desc(), BreakGlassSession.id.desc())
    sessions = list(db.session.scalars(query.limit(limit)).unique())
    counts = _read_counts([s.id for s in sessions])
    return [ReviewRow(s, *counts.get(s.id, (0, 0))) for s in sessions]


def subject_key() -> Any:
    """One SQL expression per subject ("u:12" or "r:BA-2026-1"), for counting distinct subjects."""
    return sa.func.coalesce(
        sa.literal("u:") + sa.cast(AccessLog.subject_user_id, sa.String),
        sa.literal("r:") + AccessLog.subject_reference,
    )


def _read_counts(session_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not session_ids:
        return {}
    rows = db.session.execute(
        sa.select(AccessLog.breakglass_id, sa.func.count(AccessLog.id), sa.func.count(sa.distinct(subject_key())))
        .where(AccessLog.breakglass_id.in_(session_ids), AccessLog.outcome == "granted")
        .group_by(AccessLog.breakglass_id)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in rows if row[0] is not None}


def reads_of(actor: Actor, session_id: int) -> list[AccessLog]:
    """Every read and refused attempt in the emergency access, oldest first."""
    session = get_session_for(actor, session_id)
    return list(
        db.session.scalars(
            sa.select(AccessLog).where(AccessLog.breakglass_id == session.id).order_by(AccessLog.occurred_at)
        )
    )


def remaining_minutes(session: BreakGlassSession) -> int:
    if not session.is_active(utcnow()):
        return 0
    # Rounded up: a session opened for 60 minutes says "noch 60 Minuten", and the last seconds still count as one.
    return max(1, math.ceil((as_utc(session.expires_at) - utcnow()).total_seconds() / 60))
