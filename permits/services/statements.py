"""Statements of other departments inside a permit case (Beteiligung, e.g. the traffic office on the traffic order).

The case's clerk asks a department with a question and a due date; the department's members see the open request
in their work list and answer in the case: agree, agree with conditions, or object, with a text. The clerk sees
the answers on the case, and the conditions can be carried into the permit (`conditions_for_permit`). Each step is
one transaction with its audit event (the applicant is the subject, so their log shows that departments were
asked) and its mail through the outbox: to the asked department, then back to the clerk's department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from permits import rules
from permits.errors import PermitError, PermitInvalid, PermitNotFound
from permits.models import PermitApplication, PermitState, PermitStatement, Verdict
from permits.services.applications import _case, _check_move, _set_state, _subject
from permits.services.quotes import today_in_berlin
from portal.accounts.models import DepartmentMembership
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import utcnow
from portal.transaction import transaction
from portal.urls import absolute_url

S = PermitState
TEXT_MAX = 4000
ASKABLE = frozenset({S.SUBMITTED, S.FORMAL_CHECK, S.DOCUMENTS_REQUESTED, S.CONSULTATION})
ANSWERABLE = ASKABLE  # after the decision an answer would change nothing


@dataclass(frozen=True)
class Answer:
    verdict: str | None
    text: str = ""
    conditions: str = ""


def _text(value: Any, field: str, errors: PermitInvalid, message: Any, *, required: bool = True) -> str:
    text = (value or "").strip().replace("\r\n", "\n") if isinstance(value, str) or value is None else ""
    if required and not text:
        errors.add(field, message, "required")
    elif len(text) > TEXT_MAX:
        errors.add(field, _l("Höchstens %(n)s Zeichen.", n=TEXT_MAX), "too_long")
    return text


def is_member(actor: Actor, department_id: int) -> bool:
    """Whether the actor belongs to the department in any role (the department answers, not one role)."""
    if actor.user is None or actor.on_behalf_of is not None:
        return False
    found = db.session.scalar(
        sa.select(DepartmentMembership.id).where(
            DepartmentMembership.user_id == actor.user.id, DepartmentMembership.department_id == department_id
        )
    )
    return found is not None


def askable_departments(application: PermitApplication) -> list[Department]:
    """The departments a clerk may ask: every other active department."""
    query = sa.select(Department).order_by(Department.name)
    if application.department_id is not None:
        query = query.where(Department.id != application.department_id)
    return [d for d in db.session.scalars(query) if getattr(d, "active", True)]


def request_statement(
    actor: Actor, application: PermitApplication, department_id: Any, question: Any, due_on: date | None
) -> PermitStatement:
    """The clerk asks `department_id` for its statement on the case by `due_on`; the department is mailed."""
    if not rules.is_officer(actor, application):
        raise PermitNotFound()
    if application.state not in ASKABLE:
        raise PermitError("state", _l("In diesem Stand werden keine anderen Ämter beteiligt."), "not_consultable", 409)
    errors = PermitInvalid()
    department = db.session.get(Department, department_id) if isinstance(department_id, int) else None
    if department is None or department.id == application.department_id:
        errors.add("department_id", _l("Bitte wählen Sie ein anderes Amt aus."), "unknown_department")
    text = _text(question, "question", errors, _l("Bitte stellen Sie dem Amt eine Frage."))
    if due_on is None:
        errors.add("due_on", _l("Bitte geben Sie an, bis wann das Amt antworten soll."), "required")
    elif due_on < today_in_berlin():
        errors.add("due_on", _l("Die Frist darf nicht in der Vergangenheit liegen."), "in_the_past")
    if errors:
        raise errors
    assert department is not None and due_on is not None
    if application.state == S.FORMAL_CHECK:
        _check_move(actor, application, S.CONSULTATION)
    with transaction():
        statement = PermitStatement(
            application=application,
            department_id=department.id,
            question=text,
            due_on=due_on,
            requested_by=actor.user.id if actor.user is not None else None,
        )
        db.session.add(statement)
        db.session.flush()
        audit.record(
            "permits.statement_requested",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            department_id=application.department_id,
            asked_department_id=department.id,
            due_on=due_on.isoformat(),
        )
        if application.state == S.FORMAL_CHECK:
            _set_state(
                actor,
                application,
                S.CONSULTATION,
                "permits.application_moved",
                note=f"Stellungnahme erbeten: {department.name}",
                department_id=application.department_id,
            )
        if department.email:
            enqueue(
                department.email,
                _l("Bitte um Stellungnahme zum Antrag %(reference)s", reference=application.reference),
                "permits_statement_requested",
                statement=statement,
                application=application,
                link=absolute_url("permits_desk.statement", statement_id=statement.id),
            )
    return statement


def get_statement(actor: Actor, statement_id: int) -> PermitStatement:
    """A statement for the asked department's members or the case's clerks; 404 for anyone else."""
    statement = db.session.get(PermitStatement, statement_id)
    if statement is None:
        raise PermitNotFound()
    if not (is_member(actor, statement.department_id) or rules.is_officer(actor, statement.application)):
        raise PermitNotFound()
    return statement


def answer_statement(actor: Actor, statement: PermitStatement, answer: Answer) -> PermitStatement:
    """A member of the asked department answers; once. The case's department is mailed."""
    if not is_member(actor, statement.department_id):
        raise PermitNotFound()
    application = statement.application
    if statement.answered_at is not None:
        raise PermitError("verdict", _l("Diese Stellungnahme ist bereits abgegeben."), "already_answered", 409)
    if application.state not in ANSWERABLE:
        raise PermitError("state", _l("Über den Antrag ist bereits entschieden."), "decided", 409)
    errors = PermitInvalid()
    verdict = answer.verdict if answer.verdict in {v.value for v in Verdict} else None
    if verdict is None:
        errors.add("verdict", _l("Bitte wählen Sie Ihre Stellungnahme aus."), "required")
    text = _text(
        answer.text, "text", errors, _l("Bitte begründen Sie Ihre Einwände."), required=verdict == Verdict.OBJECT
    )
    conditions = _text(
        answer.conditions if verdict == Verdict.CONDITIONS else "",
        "conditions",
        errors,
        _l("Bitte nennen Sie die Auflagen."),
        required=verdict == Verdict.CONDITIONS,
    )
    if errors:
        raise errors
    with transaction():
        # The UPDATE's condition is the guard: two members answering at once cannot both win.
        result = db.session.execute(
            sa.update(PermitStatement)
            .where(PermitStatement.id == statement.id, PermitStatement.answered_at.is_(None))
            .values(
                verdict=verdict,
                answer=text,
                conditions=conditions,
                answered_by=actor.user.id if actor.user is not None else None,
                answered_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PermitError("verdict", _l("Diese Stellungnahme ist bereits abgegeben."), "already_answered", 409)
        audit.record(
            "permits.statement_answered",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            department_id=statement.department_id,
            verdict=verdict,
            has_conditions=bool(conditions),
        )
        own = db.session.get(Department, application.department_id) if application.department_id else None
        if own is not None and own.email:
            enqueue(
                own.email,
                _l("Stellungnahme zum Antrag %(reference)s eingegangen", reference=application.reference),
                "permits_statement_answered",
                statement=statement,
                application=application,
                verdict=verdict,
                link=absolute_url("permits_desk.case", public_id=application.public_id),
            )
    db.session.refresh(statement)
    return statement


def statements_of(application: PermitApplication) -> list[PermitStatement]:
    return list(
        db.session.scalars(
            sa.select(PermitStatement)
            .where(PermitStatement.application_id == application.id)
            .order_by(PermitStatement.id)
        )
    )


def open_for(actor: Actor) -> list[PermitStatement]:
    """The unanswered statement requests of the actor's departments, the earliest due first."""
    if actor.user is None or actor.on_behalf_of is not None:
        return []
    departments = sa.select(DepartmentMembership.department_id).where(DepartmentMembership.user_id == actor.user.id)
    return list(
        db.session.scalars(
            sa.select(PermitStatement)
            .join(PermitApplication, PermitApplication.id == PermitStatement.application_id)
            .where(
                PermitStatement.department_id.in_(departments),
                PermitStatement.answered_at.is_(None),
                PermitApplication.state.in_([s.value for s in ANSWERABLE]),
            )
            .order_by(PermitStatement.due_on, PermitStatement.id)
        )
    )


def conditions_for_permit(application: PermitApplication) -> str:
    """The conditions the departments asked for, one per line, to prefill the clerk's permit conditions."""
    lines: list[str] = []
    for statement in statements_of(application):
        if statement.verdict == Verdict.CONDITIONS:
            lines += [line.strip() for line in statement.conditions.splitlines() if line.strip()]
    return "\n".join(lines)
