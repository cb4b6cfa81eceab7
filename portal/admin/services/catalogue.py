"""The service catalogue (Leistungen): entries belong to a department and are switched off, never deleted."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from portal.actors import Actor
from portal.admin.services import (
    AdminError,
    can_manage_department,
    clean,
    is_platform_admin,
    load_department,
    manageable_departments,
    optional,
    require_department,
)
from portal.audit import services as audit
from portal.departments.models import CatalogueService
from portal.extensions import db
from portal.transaction import transaction

LEIKA_RE = re.compile(r"^\d{14}$")


@dataclass(frozen=True)
class CatalogueData:
    name: str
    department_id: int
    description: str = ""
    leika_key: str | None = None


def catalogue_for(actor: Actor) -> list[CatalogueService]:
    """Every entry (active or not) the person may manage."""
    query = sa.select(CatalogueService).options(joinedload(CatalogueService.department)).order_by(CatalogueService.name)
    if not is_platform_admin(actor):
        ids = [d.id for d in manageable_departments(actor)]
        query = query.where(CatalogueService.department_id.in_(ids))
    return list(db.session.scalars(query))


def get_entry_for_edit(actor: Actor, entry_id: int) -> CatalogueService:
    entry = db.session.get(CatalogueService, entry_id)
    if entry is None:
        raise NotFound()
    require_department(actor, entry.department_id)
    return entry


def save_entry(actor: Actor, data: CatalogueData, entry_id: int | None = None) -> CatalogueService:
    """Create or change a catalogue entry; moving it to another department needs rights in both."""
    entry = get_entry_for_edit(actor, entry_id) if entry_id is not None else None
    if not can_manage_department(actor, data.department_id):
        raise AdminError(_l("Für dieses Amt dürfen Sie keine Leistungen verwalten."), "department_id")
    name = clean(data.name)
    if not name:
        raise AdminError(_l("Geben Sie den Namen der Leistung ein."), "name")
    leika_key = optional(data.leika_key)
    if leika_key is not None and not LEIKA_RE.match(leika_key):
        raise AdminError(_l("Der LeiKa-Schlüssel hat genau 14 Ziffern."), "leika_key")
    with transaction():
        load_department(data.department_id)
        if entry is None:
            entry = CatalogueService(active=True)
        entry.name = name
        entry.description = (data.description or "").strip()
        entry.department_id = data.department_id
        entry.leika_key = leika_key
        db.session.add(entry)
        audit.record(
            "catalogue.saved",
            actor,
            target=entry,
            name=name,
            department_id=data.department_id,
            leika_key=leika_key,
            active=entry.active,
            created=entry_id is None,
        )
    return entry


def set_entry_active(actor: Actor, entry_id: int, active: bool) -> CatalogueService:
    """Switch an entry off (it disappears from the public catalogue) or on again."""
    entry = get_entry_for_edit(actor, entry_id)
    with transaction():
        entry.active = active
        audit.record(
            "catalogue.saved", actor, target=entry, name=entry.name, department_id=entry.department_id, active=active
        )
    return entry
