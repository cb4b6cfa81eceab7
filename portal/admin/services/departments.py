"""Departments (Ämter): only a platform_admin creates or changes them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.actors import Actor
from portal.admin.services import AdminError, clean, load_department, optional, require_platform_admin
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.transaction import transaction

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class DepartmentData:
    slug: str
    name: str
    email: str | None = None
    phone: str | None = None


def get_department_for_edit(actor: Actor, department_id: int) -> Department:
    require_platform_admin(actor)
    return load_department(department_id)


def save_department(actor: Actor, data: DepartmentData, department_id: int | None = None) -> Department:
    """Create a department (department_id None) or change one; audited as department.saved."""
    require_platform_admin(actor)
    slug, name = clean(data.slug).lower(), clean(data.name)
    if not SLUG_RE.match(slug):
        raise AdminError(_l("Nur Kleinbuchstaben, Ziffern und Bindestriche, z. B. buergeramt."), "slug")
    if not name:
        raise AdminError(_l("Geben Sie den Namen des Amts ein."), "name")
    try:
        with transaction():
            department = Department() if department_id is None else load_department(department_id)
            taken = db.session.scalar(
                sa.select(Department.id).where(Department.slug == slug, Department.id != (department_id or 0))
            )
            if taken is not None:
                raise AdminError(_l("Diese Kurzbezeichnung ist schon vergeben."), "slug")
            department.slug = slug
            department.name = name
            department.email = optional(data.email)
            department.phone = optional(data.phone)
            db.session.add(department)
            audit.record(
                "department.saved", actor, target=department, name=name, slug=slug, created=department_id is None
            )
    except IntegrityError:
        # Two admins saved the same slug at once; the unique index decided.
        raise AdminError(_l("Diese Kurzbezeichnung ist schon vergeben."), "slug") from None
    return department
