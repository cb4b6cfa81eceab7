"""The admin area's use cases: departments, locations, service catalogue, staff and their roles.

Every function takes the acting person first and checks it: a platform_admin manages everything, a
department_admin the locations, catalogue entries and staff of their own department(s).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

import portal.admin.actions  # noqa: F401  (declares the admin area's audit actions)
from portal import declarations
from portal.accounts.models import DepartmentRole, GlobalRole
from portal.actors import Actor
from portal.departments.models import Department
from portal.extensions import db

PLATFORM_ADMIN = GlobalRole.PLATFORM_ADMIN.value
DEPARTMENT_ADMIN = DepartmentRole.DEPARTMENT_ADMIN.value


def role_labels() -> dict[str, Any]:
    """Every declared role (the core's and the services') with its label."""
    return {name: role.label for name, role in declarations.roles().items()}


def department_roles() -> list[str]:
    return declarations.role_names("department")


def global_roles() -> list[str]:
    return declarations.role_names("global")


class AdminError(Exception):
    """A rule refused the change. `field` names the form field the message belongs next to."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def is_platform_admin(actor: Actor) -> bool:
    return actor.has_role(PLATFORM_ADMIN)


def can_manage_department(actor: Actor, department_id: int) -> bool:
    return is_platform_admin(actor) or actor.has_role(DEPARTMENT_ADMIN, department_id)


def require_platform_admin(actor: Actor) -> None:
    if not is_platform_admin(actor):
        raise Forbidden()


def require_department(actor: Actor, department_id: int) -> None:
    if not can_manage_department(actor, department_id):
        raise Forbidden()


def manageable_departments(actor: Actor) -> list[Department]:
    """The departments whose locations, catalogue and staff this person may manage."""
    query = sa.select(Department).order_by(Department.name)
    if not is_platform_admin(actor):
        user = actor.user
        ids = {m.department_id for m in user.memberships if m.role == DEPARTMENT_ADMIN} if user else set()
        if not ids:
            return []
        query = query.where(Department.id.in_(ids))
    return list(db.session.scalars(query))


def load_department(department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound()
    return department


def clean(value: str | None) -> str:
    return (value or "").strip()


def optional(value: str | None) -> str | None:
    return clean(value) or None
