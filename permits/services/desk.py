"""The clerk's side of a permit case (Verkehrs- und Tiefbauamt): the case list, the formal check, the decision.

- `case_list`: the department's cases (not drafts), filtered by state and searched by case number or street;
- `history`: the case's audit events, oldest first (the trail is the case's history; nothing else is kept);
- `accept`: the formal check found the application complete (submitted → formal_check, `accepted_at` set);
- `request_documents`: ask the applicant for missing documents with a note they see on their case page;
  they upload in the same case and hand it back (applications.move → formal_check);
- `grant`: the permit with conditions and validity; its PDF, and with a fee the payment order and the fee notice
  (fee_notice), or without one the permit is in force at once (active);
- `refuse`: the refusal with reasons and its PDF.

Each function checks that the actor is a permit clerk of the case's department, moves the state only as
permits.rules allows it, and is one transaction with its audit events and the mail to the applicant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from permits import rules
from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitApplication, PermitState
from permits.services import decisions, fee_payments, lifecycle, notifications
from permits.services.applications import _case, _check_move, _set_state, _subject
from portal.actors import Actor
from portal.audit import sequencer
from portal.audit import services as audit
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.maps.normalise import clean
from portal.timeutil import utcnow
from portal.transaction import transaction

S = PermitState
NOTE_MAX = 1000
TEXT_MAX = 4000
LIST_LIMIT = 200
# Where the formal check happens; a decision needs it passed.
CHECKING = frozenset({S.SUBMITTED, S.FORMAL_CHECK, S.CONSULTATION})
DECIDABLE = frozenset({S.FORMAL_CHECK, S.CONSULTATION})


def is_clerk(actor: Actor) -> bool:
    """Holds the permit clerk's role in some department (or is a platform admin)."""
    return actor.has_role(rules.OFFICER_ROLE) or actor.has_role(rules.ADMIN_ROLE)


def _departments(actor: Actor) -> list[int] | None:
    """The departments whose cases the actor works on; None: all (platform admin)."""
    if actor.has_role(rules.ADMIN_ROLE):
        return None
    if actor.user is None:
        return []
    return [m.department_id for m in actor.user.memberships if m.role == rules.OFFICER_ROLE]


def case_list(actor: Actor, state: str | None = None, query: str | None = None) -> list[PermitApplication]:
    """The department's submitted cases, newest first; `state` one of PermitState, `query` a case number or
    part of a street name (case-insensitive)."""
    if not is_clerk(actor):
        raise PermitNotFound()
    where = [PermitApplication.state != S.DRAFT.value]
    departments = _departments(actor)
    if departments is not None:
        where.append(
            sa.or_(PermitApplication.department_id.in_(departments), PermitApplication.department_id.is_(None))
        )
    if state:
        if state not in {s.value for s in S}:
            raise PermitError("state", _l("Diesen Bearbeitungsstand gibt es nicht."), "unknown_state")
        where.append(PermitApplication.state == state)
    text = clean(query or "", 100)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            sa.or_(
                PermitApplication.reference.ilike(pattern, escape="\\"),
                PermitApplication.street.ilike(pattern, escape="\\"),
            )
        )
    return list(
        db.session.scalars(
            sa.select(PermitApplication)
            .where(*where)
            .order_by(PermitApplication.submitted_at.desc(), PermitApplication.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def get_case(actor: Actor, public_id: str) -> PermitApplication:
    """A case the actor handles as a clerk (not a draft); PermitNotFound otherwise."""
    from permits.services.applications import get_application

    application = get_application(actor, public_id)
    if not rules.is_officer(actor, application) or application.state == S.DRAFT:
        raise PermitNotFound()
    return application


def history(actor: Actor, application: PermitApplication) -> list[AuditEvent]:
    """The case's audit events, oldest first."""
    if not rules.is_officer(actor, application):
        raise PermitNotFound()
    sequencer.catch_up()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.target_type == PermitApplication.__tablename__, AuditEvent.target_id == str(application.id)
            )
            .order_by(AuditEvent.seq)
        )
    )


def _officer(actor: Actor, application: PermitApplication) -> None:
    if not rules.is_officer(actor, application):
        raise PermitNotFound()


def _text(value: str | None, field: str, limit: int, message: object) -> str:
    text = (value or "").strip().replace("\r\n", "\n")
    if not text:
        raise PermitError(field, message, "required")
    if len(text) > limit:
        raise PermitError(field, _l("Höchstens %(n)s Zeichen.", n=limit), "too_long")
    return text


def accept(actor: Actor, application: PermitApplication) -> PermitApplication:
    """The formal check passed: the application is complete; the case may now be decided."""
    _officer(actor, application)
    if application.state not in CHECKING or application.accepted_at is not None:
        raise PermitError("state", _l("Dieser Antrag ist nicht in der formellen Prüfung."), "not_in_check", 409)
    with transaction():
        if application.state == S.SUBMITTED:
            _check_move(actor, application, S.FORMAL_CHECK)
            was = application.state
            application.state = S.FORMAL_CHECK.value
        else:
            was = application.state
        application.accepted_at = application.updated_at = application.state_changed_at = utcnow()
        audit.record(
            "permits.formal_check_passed",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            was=was,
            state=application.state,
            department_id=application.department_id,
        )
    return application


def request_documents(actor: Actor, application: PermitApplication, note: str) -> PermitApplication:
    """Ask the applicant for missing documents; the note is shown on their case page and sent by mail."""
    _officer(actor, application)
    note = _text(note, "note", NOTE_MAX, _l("Bitte schreiben Sie, welche Unterlagen fehlen."))
    if application.state not in CHECKING:
        raise PermitError("state", _l("Dieser Antrag ist nicht in der formellen Prüfung."), "not_in_check", 409)
    with transaction():
        if application.state == S.SUBMITTED:
            _check_move(actor, application, S.FORMAL_CHECK)
            _set_state(
                actor,
                application,
                S.FORMAL_CHECK,
                "permits.application_moved",
                note="",
                department_id=application.department_id,
            )
        _check_move(actor, application, S.DOCUMENTS_REQUESTED)
        application.request_note = note
        application.accepted_at = None
        _set_state(
            actor,
            application,
            S.DOCUMENTS_REQUESTED,
            "permits.documents_requested",
            note=note,
            department_id=application.department_id,
        )
        notifications.documents_requested(application)
    return application


@dataclass(frozen=True)
class Grant:
    valid_from: date | None
    valid_until: date | None
    conditions: str = ""


def _check_decidable(actor: Actor, application: PermitApplication, new_state: PermitState) -> None:
    _officer(actor, application)
    if application.state not in DECIDABLE or application.accepted_at is None:
        raise PermitError(
            "state",
            _l("Entscheiden können Sie erst, wenn die formelle Prüfung abgeschlossen ist."),
            "not_checked",
            409,
        )
    _check_move(actor, application, new_state)


def grant(actor: Actor, application: PermitApplication, decision: Grant) -> PermitApplication:
    """Grant the permit; with a fee, the payment order and fee notice follow in the same transaction."""
    _check_decidable(actor, application, S.GRANTED)
    errors = PermitInvalid()
    if decision.valid_from is None:
        errors.add("valid_from", _l("Bitte geben Sie an, ab wann die Erlaubnis gilt."), "required")
    if decision.valid_until is None:
        errors.add("valid_until", _l("Bitte geben Sie an, bis wann die Erlaubnis gilt."), "required")
    if decision.valid_from and decision.valid_until and decision.valid_until < decision.valid_from:
        errors.add("valid_until", _l("Das Ende darf nicht vor dem Beginn liegen."), "end_before_start")
    conditions = (decision.conditions or "").strip().replace("\r\n", "\n")
    if len(conditions) > TEXT_MAX:
        errors.add("conditions", _l("Höchstens %(n)s Zeichen.", n=TEXT_MAX), "too_long")
    if errors:
        raise errors
    with transaction():
        application.valid_from, application.valid_until = decision.valid_from, decision.valid_until
        application.conditions = conditions
        _set_state(
            actor,
            application,
            S.GRANTED,
            "permits.application_granted",
            valid_from=application.valid_from.isoformat() if application.valid_from else None,
            valid_until=application.valid_until.isoformat() if application.valid_until else None,
            conditions=conditions,
            department_id=application.department_id,
        )
        decisions.store_permit(application)
        lifecycle.mark_extended(actor, application)
        if application.fee_cents:
            fee_payments.issue_fee_notice(actor, application)
        else:
            # Exempt: in force on its first day; until then it waits in `granted` for the calendar job.
            lifecycle.activate_if_due(actor, application, "exempt", notify=False)  # the decision mail tells them
        notifications.decided(application)
    return application


def refuse(actor: Actor, application: PermitApplication, reasons: str) -> PermitApplication:
    """Refuse with reasons; the refusal PDF goes to the applicant's account and a mail tells them."""
    _check_decidable(actor, application, S.REFUSED)
    reasons = _text(reasons, "reasons", TEXT_MAX, _l("Bitte begründen Sie die Ablehnung."))
    with transaction():
        application.decision_reasons = reasons
        _set_state(
            actor,
            application,
            S.REFUSED,
            "permits.application_refused",
            reasons=reasons,
            department_id=application.department_id,
        )
        decisions.store_refusal(application)
        notifications.decided(application)
    return application
