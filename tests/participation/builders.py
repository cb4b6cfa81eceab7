"""Builders for participation tests: a department with its consultation manager, citizens, consultations with
phases around now (through the real services), and a counter of the SQL statements a use case sends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from participation.models import Comment, Consultation, Proposal
from participation.services import comments, consultations, proposals, pseudonyms
from participation.services import phases as phase_service
from participation.services.consultations import ConsultationDraft
from portal.accounts.models import DepartmentMembership, User, UserRole
from portal.accounts.passwords import hash_password
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import PASSWORD, make_department

DAY = timedelta(days=1)


@dataclass
class World:
    """The Stadtplanungsamt runs consultations; Anna and Ben take part; Vera manages another office's."""

    planning: Department
    other: Department
    manager: User  # consultation_manager of the planning office
    other_manager: User  # consultation_manager of the other office
    admin: User  # platform_admin
    anna: User  # citizen with the pseudonym "Anna Aktiv"
    ben: User  # citizen with the pseudonym "Ben Beteiligt"
    newcomer: User  # citizen without a pseudonym yet


def actor(user: User) -> Actor:
    return Actor.for_user(user)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


def make_person(
    email: str,
    *,
    roles: tuple[str, ...] = (),
    department: Department | None = None,
    department_role: str | None = None,
    display_name: str = "Anna",
) -> User:
    """Like tests.builders.make_user, but hashing the password once per run (argon2 takes a fifth of a second)."""
    user = User(email=email, password_hash=_password_hash(), display_name=display_name, email_verified_at=utcnow())
    user.roles.extend(UserRole(role=role) for role in roles)
    if department is not None and department_role:
        user.memberships.append(DepartmentMembership(department_id=department.id, role=department_role))
    db.session.add(user)
    db.session.commit()
    return user


def make_world() -> World:
    planning = make_department("stadtplanung", "Stadtplanungsamt")
    other = make_department("gruenflaechen", "Amt für Stadtgrün")
    manager = make_person("planung@stadt.example", department=planning, department_role="consultation_manager")
    other_manager = make_person("gruen@stadt.example", department=other, department_role="consultation_manager")
    admin = make_person("admin@stadt.example", roles=("platform_admin",))
    anna = make_person("anna@example.org", display_name="Anna Echtname")
    ben = make_person("ben@example.org", display_name="Ben Echtname")
    newcomer = make_person("neu@example.org", display_name="Nina Neu")
    pseudonyms.choose(actor(anna), "Anna Aktiv")
    pseudonyms.choose(actor(ben), "Ben Beteiligt")
    return World(planning, other, manager, other_manager, admin, anna, ben, newcomer)


def make_consultation(
    world: World,
    *,
    phases: list[tuple[str, timedelta, timedelta]] | None = None,
    publish: bool = True,
    title: str = "Neugestaltung des Altmarkts",
    **draft: Any,
) -> Consultation:
    """A consultation of the planning office; `phases` as (kind, start, end) relative to now. By default one
    proposals phase that began yesterday and runs ten more days."""
    manager = actor(world.manager)
    fields: dict[str, Any] = {"summary": "Wie soll der Altmarkt künftig aussehen?", "body": "<p>Machen Sie mit.</p>"}
    fields.update(draft)
    consultation = consultations.create_consultation(
        manager, world.planning.id, ConsultationDraft(title=title, **fields)
    )
    now = utcnow()
    for kind, start, end in phases if phases is not None else [("proposals", -DAY, 10 * DAY)]:
        phase_service.add_phase(
            manager, consultation.id, kind=kind, title=f"Phase {kind}", starts_at=now + start, ends_at=now + end
        )
    if publish:
        consultations.publish(manager, consultation.id)
    return consultation


def make_proposal(
    world: World,
    consultation: Consultation,
    user: User | None = None,
    title: str = "Mehr Bäume am Altmarkt",
    **kwargs: Any,
) -> Proposal:
    kwargs.setdefault("body", "Schatten im Sommer wäre schön.")
    return proposals.create_proposal(actor(user or world.anna), consultation.id, title=title, **kwargs)


def make_comment(world: World, consultation: Consultation, user: User | None = None, **kwargs: Any) -> Comment:
    kwargs.setdefault("body", "Gute Idee.")
    return comments.create_comment(actor(user or world.anna), consultation.id, **kwargs)


def set_created_at(row: Any, when: datetime) -> None:
    """Backdate a proposal or comment (tests of order and of the edit window)."""
    db.session.execute(sa.update(type(row)).where(type(row).id == row.id).values(created_at=when))
    db.session.commit()
    db.session.expire_all()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def fresh(row: Any) -> Any:
    """The row as the database has it now."""
    db.session.expire_all()
    return db.session.get(type(row), row.id)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements sent while the block runs."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
