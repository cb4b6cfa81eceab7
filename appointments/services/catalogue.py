"""What can be booked where: catalogue services offered at locations that take appointments.

A service counts as offered at a location when the catalogue service, the offer and the location's
appointment settings are all active. Read-only; no permission checks (the catalogue is public).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from appointments.errors import BookingError
from appointments.models import LocationSettings, OfferedService
from portal.departments import texts
from portal.departments.models import CatalogueService, Department, Location
from portal.extensions import db
from portal.timeutil import utcnow

DEFAULT_SEARCH_RATE_LIMIT = "120/minute"
RATE_LIMIT_CACHE_SECONDS = 60


@dataclass(frozen=True)
class OfferedAt:
    location_id: int
    duration_minutes: int
    max_quantity: int


@dataclass
class ServiceOffer:
    id: int
    name: str  # in the request's language (German where no English is kept), like description and bring
    description: str
    department: str
    offered_at: list[OfferedAt] = field(default_factory=list)
    bring: list[str] = field(default_factory=list)
    fee: str | None = None  # "37,00 €", "gebührenfrei", ...; None when the catalogue does not say
    fee_kind: str = "unknown"  # portal.departments.texts.FEE_KINDS
    fee_cents: int | None = None  # only with fee_kind "fixed"

    @property
    def locations(self) -> list[int]:
        return [offer.location_id for offer in self.offered_at]


@dataclass(frozen=True)
class LocationOffer:
    id: int
    name: str
    street: str
    postcode: str
    city: str
    latitude: float | None
    longitude: float | None
    duration_minutes: int
    max_quantity: int
    notes: str = ""  # for visitors: entrance, accessibility, parking (the opening hours are structured elsewhere)

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"


def _offered() -> sa.Select:
    return (
        sa.select(OfferedService)
        .join(CatalogueService, CatalogueService.id == OfferedService.catalogue_service_id)
        .join(LocationSettings, LocationSettings.location_id == OfferedService.location_id)
        .where(
            OfferedService.active.is_(True),
            CatalogueService.active.is_(True),
            LocationSettings.active.is_(True),
        )
    )


def bookable_service_named(name: str) -> int | None:
    """The id of the catalogue service with this (German, configured) name where it is bookable somewhere; other
    services link to it, e.g. the building authority's advisory appointment."""
    return db.session.scalar(
        _offered().with_only_columns(CatalogueService.id).where(CatalogueService.name == name).limit(1)
    )


def offered_services() -> list[ServiceOffer]:
    """Every service bookable somewhere, by name, with its locations and durations there (one query)."""
    rows = db.session.execute(
        _offered()
        .with_only_columns(
            CatalogueService.id,
            CatalogueService.name,
            CatalogueService.description,
            CatalogueService.name_en,
            CatalogueService.description_en,
            CatalogueService.bring,
            CatalogueService.bring_en,
            CatalogueService.fee_kind,
            CatalogueService.fee_cents,
            Department.name.label("department"),
            OfferedService.location_id,
            OfferedService.duration_minutes,
            OfferedService.max_quantity,
        )
        .join(Department, Department.id == CatalogueService.department_id)
        .order_by(CatalogueService.name, CatalogueService.id, OfferedService.location_id)
    ).all()
    services: dict[int, ServiceOffer] = {}
    language = texts.current_language()
    for row in rows:
        service = services.get(row.id)
        if service is None:
            service = services[row.id] = ServiceOffer(
                row.id,
                texts.pick(row.name, row.name_en, language),
                texts.pick(row.description, row.description_en, language),
                row.department,
                bring=texts.bring_list(texts.pick(row.bring, row.bring_en, language)),
                fee=texts.fee_label(row.fee_kind, row.fee_cents),
                fee_kind=row.fee_kind,
                fee_cents=row.fee_cents if row.fee_kind == "fixed" else None,
            )
        service.offered_at.append(OfferedAt(row.location_id, row.duration_minutes, row.max_quantity))
    # German names sort the query; in English the list follows the names the citizen reads.
    return (
        sorted(services.values(), key=lambda offer: offer.name.casefold())
        if language != "de"
        else list(services.values())
    )


def locations_offering(service_id: int) -> list[LocationOffer]:
    """The locations where a service can be booked, by name. BookingError(field="service") when none."""
    rows = db.session.execute(
        _offered()
        .with_only_columns(
            Location.id,
            Location.name,
            Location.street,
            Location.postcode,
            Location.city,
            Location.latitude,
            Location.longitude,
            OfferedService.duration_minutes,
            OfferedService.max_quantity,
            Location.notes,
        )
        .join(Location, Location.id == OfferedService.location_id)
        .where(OfferedService.catalogue_service_id == service_id)
        .order_by(Location.name, Location.id)
    ).all()
    if not rows:
        raise BookingError("service", _("Diese Leistung kann nicht online gebucht werden."), "unknown")
    return [LocationOffer(*row) for row in rows]


def service_names(ids: Iterable[int], language: str | None = None) -> dict[int, str]:
    """Catalogue service id → name in `language` (the request's by default), for the ids that exist."""
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(CatalogueService.id, CatalogueService.name, CatalogueService.name_en).where(
            CatalogueService.id.in_(ids)
        )
    ).all()
    language = language or texts.current_language()
    return {row.id: texts.pick(row.name, row.name_en, language) for row in rows}


@dataclass(frozen=True)
class ServiceFacts:
    """What a citizen should know before the visit about one booked service."""

    id: int
    name: str
    bring: list[str]
    fee_kind: str
    fee_cents: int | None

    @property
    def fee(self) -> str | None:
        """Worded when read, so a mail rendered in the citizen's language says it in that language."""
        return texts.fee_label(self.fee_kind, self.fee_cents)


def service_facts(ids: Iterable[int], language: str | None = None) -> list[ServiceFacts]:
    """What to bring and what it costs for each of these services, in the order given; in `language`."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    entries = {
        entry.id: entry for entry in db.session.scalars(sa.select(CatalogueService).where(CatalogueService.id.in_(ids)))
    }
    language = language or texts.current_language()
    return [
        ServiceFacts(
            entry.id,
            texts.pick(entry.name, entry.name_en, language),
            texts.bring_list(texts.pick(entry.bring, entry.bring_en, language)),
            entry.fee_kind,
            entry.fee_cents,
        )
        for entry in (entries.get(service_id) for service_id in ids)
        if entry is not None
    ]


def search_rate_limit(location_id: int | None) -> str:
    """The location's limit on slot searches per client, e.g. "120/minute"; the global default otherwise.

    Asked before every search, so it is remembered for a minute per app: a changed limit applies within
    a minute, and searches cost no extra query.
    """
    default = current_app.config.get("APPOINTMENTS_SEARCH_RATE_LIMIT", DEFAULT_SEARCH_RATE_LIMIT)
    if location_id is None:
        return default
    cache: dict[int, tuple[float, str]] = current_app.extensions.setdefault("appointments_search_limits", {})
    now = utcnow().timestamp()
    cached = cache.get(location_id)
    if cached and cached[0] > now:
        return cached[1]
    limit = db.session.execute(
        sa.select(LocationSettings.search_rate_limit).where(LocationSettings.location_id == location_id)
    ).scalar_one_or_none()
    value = limit or default
    cache[location_id] = (now + RATE_LIMIT_CACHE_SECONDS, value)
    return value
