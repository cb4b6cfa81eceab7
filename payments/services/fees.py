"""The fee catalogue: fees with a budget line, and tariffs (fixed or per unit) valid from a date.

The treasury manages it. A tariff is never edited: a change is a new version from a later date, so a
payment order keeps the tariff it was computed from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

import payments.actions  # noqa: F401  (declares the audit actions)
from payments.errors import PaymentError
from payments.models import Fee, FeeVersion
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from portal.transaction import transaction

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
MANAGER_ROLES = ("treasury", "platform_admin")
MAX_QUANTITY = 10_000_000


def _require_manager(actor: Actor) -> None:
    from werkzeug.exceptions import Forbidden

    if not any(actor.has_role(role) for role in MANAGER_ROLES):
        raise Forbidden()


def today() -> date:
    return to_berlin(utcnow()).date()


def version_for(code: Any, on: date | None = None) -> FeeVersion:
    """The tariff of an active fee valid on `on` (today in Europe/Berlin by default)."""
    if not isinstance(code, str) or not CODE_RE.match(code.strip().upper()):
        raise PaymentError("fee_code", _("Diese Gebühr gibt es nicht."), "unknown_fee", 422)
    version = db.session.scalar(
        sa.select(FeeVersion)
        .join(Fee)
        .where(Fee.code == code.strip().upper(), Fee.active.is_(True), FeeVersion.valid_from <= (on or today()))
        .order_by(FeeVersion.valid_from.desc())
        .limit(1)
    )
    if version is None:
        raise PaymentError("fee_code", _("Diese Gebühr gibt es nicht."), "unknown_fee", 422)
    return version


def amount_for(version: FeeVersion, quantity: Any = None) -> int:
    """The amount in cents: the fixed amount, or rate × quantity (rounded half up to the cent) with the minimum."""
    if version.amount_cents is not None:
        return max(version.amount_cents, version.minimum_cents)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_QUANTITY:
        raise PaymentError(
            "quantity",
            _("Für diese Gebühr fehlt die Menge (%(unit)s) als ganze Zahl größer als 0.", unit=version.unit),
            "quantity_required",
        )
    assert version.rate_cents is not None
    return max(version.rate_cents * quantity, version.minimum_cents)


@dataclass(frozen=True)
class Quote:
    """What a fee comes to today, for another service to show before it asks for a payment."""

    code: str
    name: str
    amount_cents: int
    budget_line: str
    per_unit: bool  # a rate per unit: `quantity` counts the units; a fixed fee ignores it


def quote(code: Any, quantity: Any = None) -> Quote:
    """The amount `create_payment(fee_code=code, quantity=quantity)` would fix today, with the fee's name and
    budget line. Read-only; PaymentError (unknown_fee, quantity_required) as create_payment would raise."""
    version = version_for(code)
    return Quote(
        version.fee.code,
        version.fee.name,
        amount_for(version, quantity),
        version.fee.budget_line,
        version.amount_cents is None,
    )


def list_fees() -> list[Fee]:
    return list(db.session.scalars(sa.select(Fee).options(selectinload(Fee.versions)).order_by(Fee.code)))


def save_fee(actor: Actor, code: str, name: str, budget_line: str, description: str = "", active: bool = True) -> Fee:
    """Create a fee or change its texts, budget line and whether it is offered (never its tariffs)."""
    _require_manager(actor)
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise PaymentError("code", _("Großbuchstaben, Ziffern, - und _, 2 bis 40 Zeichen."), "invalid_code")
    name, budget_line = (name or "").strip(), (budget_line or "").strip()
    if not name or "\x00" in name or len(name) > 200:
        raise PaymentError("name", _("Geben Sie eine Bezeichnung an (höchstens 200 Zeichen)."), "invalid_name")
    if not budget_line or "\x00" in budget_line or len(budget_line) > 60:
        raise PaymentError("budget_line", _("Geben Sie die Haushaltsstelle an."), "invalid_budget_line")
    with transaction():
        fee = db.session.scalar(sa.select(Fee).where(Fee.code == code))
        if fee is None:
            fee = Fee(code=code)
            db.session.add(fee)
        fee.name, fee.budget_line, fee.description, fee.active = name, budget_line, description or "", active
        audit.record("payment.fee_saved", actor, target=fee, code=code, budget_line=budget_line, active=active)
    return fee


def add_version(
    actor: Actor,
    code: str,
    valid_from: date,
    *,
    amount_cents: int | None = None,
    rate_cents: int | None = None,
    unit: str | None = None,
    minimum_cents: int = 0,
) -> FeeVersion:
    """A new tariff from `valid_from` (today or later: the past stays as it was charged)."""
    _require_manager(actor)
    fee = db.session.scalar(sa.select(Fee).where(Fee.code == (code or "").strip().upper()))
    if fee is None:
        raise PaymentError("code", _("Diese Gebühr gibt es nicht."), "unknown_fee", 404)
    if valid_from < today():
        raise PaymentError("valid_from", _("Ein neuer Tarif gilt frühestens ab heute."), "in_the_past")
    if (amount_cents is None) == (rate_cents is None):
        raise PaymentError("amount_cents", _("Geben Sie entweder einen festen Betrag oder einen Satz je Einheit an."))
    for field, value in (("amount_cents", amount_cents), ("rate_cents", rate_cents)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**8):
            raise PaymentError(field, _("Der Betrag muss größer als 0 sein."), "amount_not_positive")
    if rate_cents is not None and not (unit or "").strip():
        raise PaymentError("unit", _("Geben Sie die Einheit an, z. B. „m² und Tag“."), "unit_required")
    with transaction():
        if db.session.scalar(
            sa.select(FeeVersion.id).where(FeeVersion.fee_id == fee.id, FeeVersion.valid_from == valid_from)
        ):
            raise PaymentError("valid_from", _("Ab diesem Tag gilt schon ein Tarif."), "duplicate_version", 409)
        version = FeeVersion(
            fee=fee,
            valid_from=valid_from,
            amount_cents=amount_cents,
            rate_cents=rate_cents,
            unit=(unit or "").strip() or None,
            minimum_cents=minimum_cents,
            created_by=actor.user.id if actor.user else None,
        )
        db.session.add(version)
        audit.record(
            "payment.fee_version_added",
            actor,
            target=version,
            code=fee.code,
            valid_from=valid_from.isoformat(),
            amount_cents=amount_cents,
            rate_cents=rate_cents,
        )
    return version
