"""The service catalogue (Leistungen): entries belong to a department and are switched off, never deleted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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
FEE_KINDS = ("unknown", "free", "fixed", "varies")
MAX_FEE_CENTS = 10_000_000  # 100.000 €: beyond any municipal fee, so a typo (an extra zero or two) is caught


@dataclass(frozen=True)
class CatalogueData:
    name: str
    department_id: int
    description: str = ""
    leika_key: str | None = None
    bring: str = ""
    fee_kind: str = "unknown"
    fee_amount: str = ""  # euros as typed: "37", "37,00" or "37.00"; only for fee_kind "fixed"
    name_en: str = ""
    description_en: str = ""
    bring_en: str = ""


def parse_fee(kind: str, amount: str) -> int | None:
    """The fee in cents for a "fixed" fee, None otherwise; AdminError names the field that is wrong."""
    if kind not in FEE_KINDS:
        raise AdminError(_l("Wählen Sie, was die Leistung kostet."), "fee_kind")
    text = (amount or "").strip().removesuffix("€").strip()
    if kind != "fixed":
        if text:
            raise AdminError(_l("Einen Betrag gibt es nur bei einem festen Betrag."), "fee_amount")
        return None
    if not text:
        raise AdminError(_l("Geben Sie den Betrag in Euro ein, z. B. 37,00."), "fee_amount")
    if "," in text:  # German notation: "1.234,50" -> "1234.50"
        text = text.replace(".", "").replace(",", ".")
    try:
        euros = Decimal(text)
    except InvalidOperation:
        euros = Decimal(-1)
    cents = euros * 100
    if not euros.is_finite() or cents != cents.to_integral_value() or not 0 < cents <= MAX_FEE_CENTS:
        raise AdminError(_l("Geben Sie einen Betrag über 0 € mit höchstens zwei Nachkommastellen ein."), "fee_amount")
    return int(cents)


def fee_amount_text(entry: CatalogueService) -> str:
    """The stored fee as the form shows it: 3700 -> "37,00"."""
    if entry.fee_cents is None:
        return ""
    whole, rest = divmod(entry.fee_cents, 100)
    return f"{whole},{rest:02d}"


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
    fee_cents = parse_fee(data.fee_kind, data.fee_amount)
    name_en = clean(data.name_en) or None
    with transaction():
        load_department(data.department_id)
        if entry is None:
            entry = CatalogueService(active=True)
        entry.name = name
        entry.description = (data.description or "").strip()
        entry.department_id = data.department_id
        entry.leika_key = leika_key
        entry.bring = _lines(data.bring)
        entry.fee_kind = data.fee_kind
        entry.fee_cents = fee_cents
        entry.name_en = name_en
        entry.description_en = (data.description_en or "").strip()
        entry.bring_en = _lines(data.bring_en)
        db.session.add(entry)
        audit.record(
            "catalogue.saved",
            actor,
            target=entry,
            name=name,
            department_id=data.department_id,
            leika_key=leika_key,
            fee_kind=data.fee_kind,
            fee_cents=fee_cents,
            bring=entry.bring,
            name_en=name_en,
            active=entry.active,
            created=entry_id is None,
        )
    return entry


def _lines(text: str | None) -> str:
    """One item a line, without blank lines or trailing spaces."""
    return "\n".join(line.strip() for line in (text or "").splitlines() if line.strip())


def set_entry_active(actor: Actor, entry_id: int, active: bool) -> CatalogueService:
    """Switch an entry off (it disappears from the public catalogue) or on again."""
    entry = get_entry_for_edit(actor, entry_id)
    with transaction():
        entry.active = active
        audit.record(
            "catalogue.saved", actor, target=entry, name=entry.name, department_id=entry.department_id, active=active
        )
    return entry
