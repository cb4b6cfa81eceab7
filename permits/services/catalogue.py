"""The permit catalogue: use types, the street-to-zone list, tariff versions and exemption reasons.

Reading is for everyone (the fee preview is public). Changing needs the department's roles: the street list
`permit_officer` (or `permit_catalogue_admin`), use types, tariffs and exemption reasons `permit_catalogue_admin`;
`platform_admin` and the system (demo, CLI) may do both. Every change is audited in the transaction that makes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

import permits.actions  # noqa: F401  (declares the audit actions)
from permits.errors import PermitError
from permits.models import (
    MAX_ZONE,
    DurationUnit,
    ExemptionReason,
    StreetZone,
    Tariff,
    TariffRate,
    UseType,
)
from permits.rules import CATALOGUE_ROLE, OFFICER_ROLE
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.maps.normalise import clean, street_key
from portal.timeutil import utcnow
from portal.transaction import transaction

ADMIN_ROLE = "platform_admin"


def _require(actor: Actor, *roles: str) -> None:
    if actor.kind == "system" or actor.has_role(ADMIN_ROLE):
        return
    if not any(actor.has_role(role) for role in roles):
        raise Forbidden()


# --- reading ----------------------------------------------------------------------------------------------------


def use_types(*, active_only: bool = True) -> list[UseType]:
    query = sa.select(UseType).order_by(UseType.position, UseType.code)
    if active_only:
        query = query.where(UseType.active.is_(True))
    return list(db.session.scalars(query))


def use_type_by_code(code: str) -> UseType | None:
    """The active use type called `code`, or None."""
    return db.session.scalar(sa.select(UseType).where(UseType.code == code, UseType.active.is_(True)))


def find_street(name: str) -> StreetZone | None:
    """The zone entry of a street, however it is written ("Markt", "markt", "Hauptstr.", "HAUPTSTRASSE")."""
    key = street_key(name or "")
    if not key:
        return None
    return db.session.scalar(sa.select(StreetZone).where(StreetZone.name_key == key))


def street_zones() -> list[StreetZone]:
    return list(db.session.scalars(sa.select(StreetZone).order_by(StreetZone.name_key)))


def tariff_in_force(day: date) -> Tariff | None:
    """The tariff version in force on `day`: the latest one that took effect on or before it."""
    return db.session.scalar(
        sa.select(Tariff).where(Tariff.effective_from <= day).order_by(Tariff.effective_from.desc()).limit(1)
    )


def tariff_taking_effect(day: date) -> Tariff | None:
    """The tariff version that took effect exactly on `day`, if any."""
    return db.session.scalar(sa.select(Tariff).where(Tariff.effective_from == day))


def rate_for(tariff: Tariff, use_type: UseType, zone: int) -> TariffRate | None:
    """The tariff's rate for the use type in the zone, in the unit the use type is charged by."""
    return db.session.scalar(
        sa.select(TariffRate).where(
            TariffRate.tariff_id == tariff.id,
            TariffRate.use_type_id == use_type.id,
            TariffRate.zone == zone,
            TariffRate.unit == use_type.unit,
        )
    )


def exemption_by_code(code: str) -> ExemptionReason | None:
    return db.session.scalar(
        sa.select(ExemptionReason).where(ExemptionReason.code == code, ExemptionReason.active.is_(True))
    )


def exemption_reasons() -> list[ExemptionReason]:
    return list(
        db.session.scalars(
            sa.select(ExemptionReason).where(ExemptionReason.active.is_(True)).order_by(ExemptionReason.code)
        )
    )


# --- the street-to-zone list ------------------------------------------------------------------------------------


def _zone(value: object, field: str = "zone") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ZONE:
        raise PermitError(field, f"Die Zone ist eine Zahl von 1 bis {MAX_ZONE}.", "invalid_zone")
    return value


def save_street_zone(actor: Actor, name: str, zone: int) -> StreetZone:
    """Put a street into a zone (or move it); the same street written differently is the same entry."""
    _require(actor, OFFICER_ROLE, CATALOGUE_ROLE)
    name = clean(name, 200)
    key = street_key(name)
    if not key:
        raise PermitError("street", "Bitte geben Sie einen Straßennamen an.", "required")
    zone = _zone(zone)
    with transaction():
        entry = db.session.scalar(sa.select(StreetZone).where(StreetZone.name_key == key))
        was = entry.zone if entry is not None else None
        if entry is None:
            entry = StreetZone(name=name, name_key=key, zone=zone, updated_at=utcnow())
            db.session.add(entry)
        elif (entry.name, entry.zone) == (name, zone):
            return entry
        else:
            entry.name, entry.zone, entry.updated_at = name, zone, utcnow()
        audit.record("permits.street_zone_saved", actor, target=entry, street=name, zone=zone, was=was)
    return entry


def remove_street_zone(actor: Actor, name: str) -> bool:
    """Take a street off the list; applications for it then need the department to add it first."""
    _require(actor, OFFICER_ROLE, CATALOGUE_ROLE)
    with transaction():
        entry = find_street(name)
        if entry is None:
            return False
        audit.record("permits.street_zone_removed", actor, target=entry, street=entry.name, zone=entry.zone)
        db.session.delete(entry)
    return True


# --- use types, exemption reasons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UseTypeData:
    code: str
    name_de: str
    name_en: str
    unit: str = DurationUnit.DAY.value
    lead_working_days: int = 10
    required_attachments: tuple[str, ...] = ()
    has_setup_teardown: bool = False
    active: bool = True
    position: int = 0


def save_use_type(actor: Actor, data: UseTypeData) -> UseType:
    """Create or change the use type with `data.code`; nothing is written when nothing changes."""
    from permits.attachments import KINDS

    _require(actor, CATALOGUE_ROLE)
    if data.unit not in set(DurationUnit):
        raise PermitError("unit", "Unbekannte Einheit.", "invalid_unit")
    unknown = set(data.required_attachments) - KINDS.keys()
    if unknown:
        raise PermitError("required_attachments", f"Unbekannte Anlagen: {', '.join(sorted(unknown))}.", "invalid")
    values = {
        "name_de": data.name_de,
        "name_en": data.name_en,
        "unit": data.unit,
        "lead_working_days": data.lead_working_days,
        "required_attachments": list(data.required_attachments),
        "has_setup_teardown": data.has_setup_teardown,
        "active": data.active,
        "position": data.position,
    }
    with transaction():
        use_type, changed = _upsert(UseType, data.code, values)
        if not changed:
            return use_type
        audit.record(
            "permits.use_type_saved",
            actor,
            target=use_type,
            code=data.code,
            unit=data.unit,
            lead_working_days=data.lead_working_days,
            required_attachments=list(data.required_attachments),
            active=data.active,
        )
    return use_type


def _upsert(model: Any, code: str, values: Mapping[str, Any]) -> tuple[Any, bool]:
    """The catalogue row with this code, created or brought to `values`; and whether anything changed (an
    unchanged save writes no audit event)."""
    row = db.session.scalar(sa.select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        db.session.add(row)
        return row, True
    if all(getattr(row, name) == value for name, value in values.items()):
        return row, False
    for name, value in values.items():
        setattr(row, name, value)
    return row, True


def save_exemption_reason(
    actor: Actor,
    code: str,
    name_de: str,
    name_en: str,
    percent: int = 100,
    *,
    covers_administrative_fee: bool = False,
    proof_required: bool = True,
) -> ExemptionReason:
    _require(actor, CATALOGUE_ROLE)
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100:
        raise PermitError("percent", "Der Anteil liegt zwischen 1 und 100 %.", "invalid_percent")
    values = {
        "name_de": name_de,
        "name_en": name_en,
        "percent": percent,
        "covers_administrative_fee": covers_administrative_fee,
        "proof_required": proof_required,
    }
    with transaction():
        reason, changed = _upsert(ExemptionReason, code, values)
        if not changed:
            return reason
        audit.record(
            "permits.exemption_reason_saved",
            actor,
            target=reason,
            code=code,
            percent=percent,
            covers_administrative_fee=covers_administrative_fee,
        )
    return reason


# --- tariff versions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateData:
    use_type: str  # code
    zone: int
    unit: str
    rate_cents: int
    minimum_fee_cents: int | None = None


def add_tariff(
    actor: Actor,
    effective_from: date,
    rates: Iterable[RateData],
    *,
    minimum_fee_cents: int,
    administrative_fee_cents: int,
    statute: str = "",
) -> Tariff:
    """Add a tariff version taking effect on `effective_from` (a date with a version already is refused).

    Versions are not edited: cases submitted under one keep pointing at it, so changing it would change what
    an applicant was shown. A correction is a new version.
    """
    _require(actor, CATALOGUE_ROLE)
    rates = list(rates)
    if minimum_fee_cents < 0 or administrative_fee_cents < 0:
        raise PermitError("minimum_fee_cents", "Beträge dürfen nicht negativ sein.", "negative")
    if not rates:
        raise PermitError("rates", "Ein Tarif braucht mindestens einen Satz.", "required")
    codes: Mapping[str, UseType] = {u.code: u for u in use_types(active_only=False)}
    seen: set[tuple[str, int, str]] = set()
    for rate in rates:
        if rate.use_type not in codes:
            raise PermitError("rates", f"Unbekannte Nutzungsart {rate.use_type!r}.", "unknown_use_type")
        _zone(rate.zone, "rates")
        if rate.unit not in set(DurationUnit) or rate.rate_cents <= 0:
            raise PermitError("rates", "Jeder Satz braucht eine Einheit und einen Betrag über 0.", "invalid_rate")
        if (rate.use_type, rate.zone, rate.unit) in seen:
            raise PermitError("rates", "Jeder Satz darf nur einmal vorkommen.", "duplicate_rate")
        seen.add((rate.use_type, rate.zone, rate.unit))
    try:
        with transaction():
            taken = db.session.scalar(sa.select(Tariff.id).where(Tariff.effective_from == effective_from))
            if taken is not None:
                raise PermitError(
                    "effective_from", "Für diesen Tag gibt es schon eine Tarifversion.", "tariff_exists", 409
                )
            tariff = Tariff(
                effective_from=effective_from,
                statute=clean(statute, 200),
                minimum_fee_cents=minimum_fee_cents,
                administrative_fee_cents=administrative_fee_cents,
                created_by=actor.user.id if actor.user is not None else None,
            )
            tariff.rates = [
                TariffRate(
                    use_type=codes[rate.use_type],
                    zone=rate.zone,
                    unit=rate.unit,
                    rate_cents=rate.rate_cents,
                    minimum_fee_cents=rate.minimum_fee_cents,
                )
                for rate in rates
            ]
            db.session.add(tariff)
            audit.record(
                "permits.tariff_added",
                actor,
                target=tariff,
                effective_from=effective_from.isoformat(),
                rates=len(rates),
                minimum_fee_cents=minimum_fee_cents,
                administrative_fee_cents=administrative_fee_cents,
            )
    except sa.exc.IntegrityError:
        # Two people adding a version for the same day at once: the UNIQUE key lets one through.
        raise PermitError(
            "effective_from", "Für diesen Tag gibt es schon eine Tarifversion.", "tariff_exists", 409
        ) from None
    return tariff
