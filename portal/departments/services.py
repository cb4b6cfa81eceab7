"""Departments, locations and the shared service catalogue."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.departments.models import CatalogueService, Department
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
