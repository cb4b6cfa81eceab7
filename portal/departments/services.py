"""Departments, locations and the shared service catalogue."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.departments.models import CatalogueService, Department, Location
from portal.extensions import db


def list_departments() -> list[Department]:
    return list(
        db.session.scalars(sa.select(Department).options(selectinload(Department.locations)).order_by(Department.name))
    )


def list_catalogue(active_only: bool = True) -> list[CatalogueService]:
    query = sa.select(CatalogueService).order_by(CatalogueService.name)
    if active_only:
        query = query.where(CatalogueService.active.is_(True))
    return list(db.session.scalars(query))


def get_department(department_id: int) -> Department | None:
    return db.session.get(Department, department_id)


def get_department_by_slug(slug: str) -> Department | None:
    return db.session.scalar(sa.select(Department).where(Department.slug == slug))


def list_locations(department_id: int | None = None) -> list[Location]:
    """Every location, or those of one department, by name."""
    query = sa.select(Location).order_by(Location.name)
    if department_id is not None:
        query = query.where(Location.department_id == department_id)
    return list(db.session.scalars(query))
