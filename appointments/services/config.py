"""What department admins configure per location: settings, offered services, opening hours, closures.

Allowed for platform_admin and for the department_admin of the location's department. Every rule is checked
here (not only in the forms) and every change is audited as appointment.config_*.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, time
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from limits import parse as parse_rate_limit
from werkzeug.exceptions import Forbidden, NotFound

import appointments.actions_config  # noqa: F401  (declares appointment.config_*)
from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod
from appointments.services import availability_version  # noqa: F401  (changes here raise the version)
from portal.accounts.models import DepartmentRole, GlobalRole
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import CatalogueService, Location
from portal.extensions import db
from portal.transaction import transaction

SLOT_MINUTES = (5, 10, 15, 20, 30, 60)
WEEKDAY_NAMES = [
    _l("Montag"),
    _l("Dienstag"),
    _l("Mittwoch"),
    _l("Donnerstag"),
    _l("Freitag"),
    _l("Samstag"),
    _l("Sonntag"),
]


class ConfigError(Exception):
    """A rule refused the change; `field` names the form field the message belongs next to."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SettingsData:
    active: bool
    counters: int
    slot_minutes: int
    horizon_days: int
    min_notice_minutes: int
    buffer_minutes: int
    held_back_seats: int
    confirm_within_minutes: int | None
    max_open_per_email: int
    cancel_cooldown_minutes: int
    captcha_required: bool
    reminder_hours: int
    waitlist_offer_minutes: int
    search_rate_limit: str
    booking_rate_limit: str


@dataclass(frozen=True)
class OfferedServiceData:
    catalogue_service_id: int
    duration_minutes: int
    max_quantity: int
    active: bool = True


@dataclass(frozen=True)
class OpeningPeriodData:
    weekdays: tuple[int, ...]
    opens: time
    closes: time
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class ClosureData:
    first_day: date
    last_day: date | None = None
    reason: str = ""


@dataclass(frozen=True)
class LocationConfig:
    location: Location
    settings: LocationSettings | None
    services: list[tuple[OfferedService, CatalogueService]]
    periods: list[OpeningPeriod]
    closures: list[Closure]


# Permissions ---------------------------------------------------------------------------------------------


def can_configure(actor: Actor, location: Location) -> bool:
    return actor.has_role(GlobalRole.PLATFORM_ADMIN.value) or actor.has_role(
        DepartmentRole.DEPARTMENT_ADMIN.value, location.department_id
    )


def configurable_locations(actor: Actor) -> list[tuple[Location, LocationSettings | None]]:
    """The locations this person may configure, with their settings (None: no online appointments yet)."""
    query = (
        sa.select(Location, LocationSettings)
        .outerjoin(LocationSettings, LocationSettings.location_id == Location.id)
        .order_by(Location.name)
    )
    if not actor.has_role(GlobalRole.PLATFORM_ADMIN.value):
        user = actor.user
        ids = (
            {m.department_id for m in user.memberships if m.role == DepartmentRole.DEPARTMENT_ADMIN} if user else set()
        )
        if not ids:
            return []
        query = query.where(Location.department_id.in_(ids))
    return [(location, settings) for location, settings in db.session.execute(query)]


def location_for_config(actor: Actor, location_id: int) -> Location:
    location = db.session.get(Location, location_id)
    if location is None:
        raise NotFound()
    if not can_configure(actor, location):
        raise Forbidden()
    return location


def location_config(actor: Actor, location_id: int) -> LocationConfig:
    location = location_for_config(actor, location_id)
    services = db.session.execute(
        sa.select(OfferedService, CatalogueService)
        .join(CatalogueService, CatalogueService.id == OfferedService.catalogue_service_id)
        .where(OfferedService.location_id == location_id)
        .order_by(CatalogueService.name)
    )
    periods = db.session.scalars(
        sa.select(OpeningPeriod)
        .where(OpeningPeriod.location_id == location_id)
        .order_by(OpeningPeriod.weekday, OpeningPeriod.valid_from, OpeningPeriod.opens)
    )
    closures = db.session.scalars(
        sa.select(Closure).where(Closure.location_id == location_id).order_by(Closure.first_day)
    )
    return LocationConfig(
        location=location,
        settings=db.session.get(LocationSettings, location_id),
        services=[(offered, entry) for offered, entry in services],
        periods=list(periods),
        closures=list(closures),
    )


def catalogue_choices() -> list[CatalogueService]:
    """Active catalogue entries; any department's service may be offered at a location (a Bürgerbüro does)."""
    return list(
        db.session.scalars(
            sa.select(CatalogueService).where(CatalogueService.active.is_(True)).order_by(CatalogueService.name)
        )
    )


# Settings ------------------------------------------------------------------------------------------------


def default_settings() -> dict[str, Any]:
    """The model's defaults, to prefill the form of a location without settings."""
    values: dict[str, Any] = {"confirm_within_minutes": None}
    for column in LocationSettings.__table__.columns:
        default = column.default
        if default is not None and default.is_scalar:
            values[column.name] = default.arg  # type: ignore[attr-defined]
    return values


def _validate_settings(data: SettingsData) -> None:
    if not 1 <= data.counters <= 200:
        raise ConfigError(_l("Zwischen 1 und 200 Schaltern."), "counters")
    if data.slot_minutes not in SLOT_MINUTES:
        raise ConfigError(_l("Wählen Sie ein Zeitraster aus der Liste."), "slot_minutes")
    if not 1 <= data.horizon_days <= 730:
        raise ConfigError(_l("Zwischen 1 und 730 Tagen."), "horizon_days")
    if data.min_notice_minutes < 0:
        raise ConfigError(_l("Der Mindestvorlauf kann nicht negativ sein."), "min_notice_minutes")
    if data.buffer_minutes < 0:
        raise ConfigError(_l("Der Puffer kann nicht negativ sein."), "buffer_minutes")
    if not 0 <= data.held_back_seats < data.counters:
        raise ConfigError(
            _l("Zurückgehaltene Plätze müssen weniger sein als Schalter, sonst bleibt online nichts buchbar."),
            "held_back_seats",
        )
    if data.confirm_within_minutes is not None and data.confirm_within_minutes < 5:
        raise ConfigError(_l("Mindestens 5 Minuten, oder leer für keine Bestätigung."), "confirm_within_minutes")
    if data.max_open_per_email < 1:
        raise ConfigError(_l("Mindestens ein offener Termin je E-Mail-Adresse."), "max_open_per_email")
    for name in ("search_rate_limit", "booking_rate_limit"):
        try:
            parse_rate_limit(getattr(data, name))
        except ValueError:
            raise ConfigError(_l("Geben Sie eine Grenze wie „10/hour“ oder „120/minute“ ein."), name) from None


def save_settings(actor: Actor, location_id: int, data: SettingsData) -> LocationSettings:
    """Create or change a location's settings; the first save switches online appointments on."""
    location = location_for_config(actor, location_id)
    # "10 / hour" and "10/hour" are the same limit; store the compact form flask-limiter documents.
    data = replace(
        data,
        search_rate_limit=data.search_rate_limit.strip().replace(" ", ""),
        booking_rate_limit=data.booking_rate_limit.strip().replace(" ", ""),
    )
    _validate_settings(data)
    with transaction():
        settings = db.session.get(LocationSettings, location.id)
        created = settings is None
        if settings is None:
            settings = LocationSettings(location_id=location.id)
            db.session.add(settings)
        changed = []
        for item in fields(SettingsData):
            value = getattr(data, item.name)
            if created or getattr(settings, item.name) != value:
                setattr(settings, item.name, value)
                changed.append(item.name)
        audit.record(
            "appointment.config_saved",
            actor,
            target_type="location",
            target_id=location.id,
            location_id=location.id,
            fields=changed,
            created=created,
        )
    return settings


# Offered services ----------------------------------------------------------------------------------------


def save_offered_service(
    actor: Actor, location_id: int, data: OfferedServiceData, offered_id: int | None = None
) -> OfferedService:
    location = location_for_config(actor, location_id)
    entry = db.session.get(CatalogueService, data.catalogue_service_id)
    if entry is None or not entry.active:
        raise ConfigError(_l("Wählen Sie eine aktive Leistung aus dem Katalog."), "catalogue_service_id")
    if not 5 <= data.duration_minutes <= 480:
        raise ConfigError(_l("Zwischen 5 und 480 Minuten."), "duration_minutes")
    if not 1 <= data.max_quantity <= 20:
        raise ConfigError(_l("Zwischen 1 und 20."), "max_quantity")
    with transaction():
        offered = None if offered_id is None else _of_location(OfferedService, offered_id, location.id)
        clash = db.session.scalar(
            sa.select(OfferedService.id).where(
                OfferedService.location_id == location.id,
                OfferedService.catalogue_service_id == entry.id,
                OfferedService.id != (offered_id or 0),
            )
        )
        if clash is not None:
            raise ConfigError(
                _l("Diese Leistung wird hier schon angeboten. Ändern Sie den vorhandenen Eintrag."),
                "catalogue_service_id",
            )
        if offered is None:
            offered = OfferedService(location_id=location.id)
            db.session.add(offered)
        offered.catalogue_service_id = entry.id
        offered.duration_minutes = data.duration_minutes
        offered.max_quantity = data.max_quantity
        offered.active = data.active
        audit.record(
            "appointment.config_service_saved",
            actor,
            target=offered,
            location_id=location.id,
            service_id=entry.id,
            duration_minutes=data.duration_minutes,
            max_quantity=data.max_quantity,
            active=data.active,
        )
    return offered


_Row = TypeVar("_Row", OfferedService, OpeningPeriod, Closure)


def _of_location(model: type[_Row], row_id: int, location_id: int) -> _Row:
    """The row with this id if it belongs to the location; otherwise not found, so other locations stay hidden."""
    row = db.session.get(model, row_id)
    if row is None or row.location_id != location_id:
        raise NotFound()
    return row


def offered_service_for_edit(actor: Actor, location_id: int, offered_id: int) -> OfferedService:
    location_for_config(actor, location_id)
    return _of_location(OfferedService, offered_id, location_id)


# Opening hours -------------------------------------------------------------------------------------------


def _ranges_overlap(a_from: date | None, a_until: date | None, b_from: date | None, b_until: date | None) -> bool:
    """Validity ranges overlap; an open end reaches forever."""
    return (a_from is None or b_until is None or a_from <= b_until) and (
        b_from is None or a_until is None or b_from <= a_until
    )


def _validate_period(data: OpeningPeriodData) -> list[int]:
    weekdays = sorted(set(data.weekdays))
    if not weekdays or any(not 0 <= day <= 6 for day in weekdays):
        raise ConfigError(_l("Wählen Sie mindestens einen Wochentag."), "weekdays")
    if data.opens >= data.closes:
        raise ConfigError(_l("Die Schließzeit muss nach der Öffnungszeit liegen."), "closes")
    if data.valid_from and data.valid_until and data.valid_from > data.valid_until:
        raise ConfigError(_l("Das Ende der Gültigkeit darf nicht vor ihrem Beginn liegen."), "valid_until")
    return weekdays


def _refuse_overlap(location_id: int, weekdays: list[int], data: OpeningPeriodData, skip: int | None = None) -> None:
    """ConfigError when the interval overlaps another one of the location on those weekdays (`skip`: itself)."""
    query = sa.select(OpeningPeriod).where(
        OpeningPeriod.location_id == location_id, OpeningPeriod.weekday.in_(weekdays)
    )
    if skip is not None:
        query = query.where(OpeningPeriod.id != skip)
    for other in db.session.scalars(query):
        if (
            _ranges_overlap(data.valid_from, data.valid_until, other.valid_from, other.valid_until)
            and data.opens < other.closes
            and other.opens < data.closes
        ):
            raise ConfigError(
                _l(
                    "Überschneidet sich mit %(weekday)s %(opens)s–%(closes)s Uhr. Für eine Pause legen Sie "
                    "zwei Zeiten an, die sich nicht überschneiden.",
                    weekday=WEEKDAY_NAMES[other.weekday],
                    opens=other.opens.strftime("%H:%M"),
                    closes=other.closes.strftime("%H:%M"),
                ),
                "opens",
            )


def opening_period(actor: Actor, location_id: int, period_id: int) -> OpeningPeriod:
    location = location_for_config(actor, location_id)
    return _of_location(OpeningPeriod, period_id, location.id)


def update_opening_period(actor: Actor, location_id: int, period_id: int, data: OpeningPeriodData) -> OpeningPeriod:
    """Change one interval (its weekday, times, validity) in place; refused when it would overlap another."""
    location = location_for_config(actor, location_id)
    weekdays = _validate_period(data)
    if len(weekdays) != 1:
        raise ConfigError(_l("Wählen Sie genau einen Wochentag."), "weekday")
    with transaction():
        period = _of_location(OpeningPeriod, period_id, location.id)
        _refuse_overlap(location.id, weekdays, data, skip=period.id)
        before = f"{period.weekday} {period.opens.isoformat('minutes')}-{period.closes.isoformat('minutes')}"
        period.weekday = weekdays[0]
        period.opens, period.closes = data.opens, data.closes
        period.valid_from, period.valid_until = data.valid_from, data.valid_until
        audit.record(
            "appointment.config_hours_changed",
            actor,
            target=period,
            location_id=location.id,
            weekday=period.weekday,
            opens=data.opens.isoformat("minutes"),
            closes=data.closes.isoformat("minutes"),
            valid_from=data.valid_from.isoformat() if data.valid_from else None,
            valid_until=data.valid_until.isoformat() if data.valid_until else None,
            before=before,
        )
    return period


def save_opening_period(actor: Actor, location_id: int, data: OpeningPeriodData) -> list[OpeningPeriod]:
    """Add one interval on each of the weekdays; all of them or, when one overlaps, none."""
    location = location_for_config(actor, location_id)
    weekdays = _validate_period(data)
    with transaction():
        _refuse_overlap(location.id, weekdays, data)
        periods = []
        for weekday in weekdays:
            period = OpeningPeriod(
                location_id=location.id,
                weekday=weekday,
                opens=data.opens,
                closes=data.closes,
                valid_from=data.valid_from,
                valid_until=data.valid_until,
            )
            db.session.add(period)
            audit.record(
                "appointment.config_hours_saved",
                actor,
                target=period,
                location_id=location.id,
                weekday=weekday,
                opens=data.opens.isoformat("minutes"),
                closes=data.closes.isoformat("minutes"),
                valid_from=data.valid_from.isoformat() if data.valid_from else None,
                valid_until=data.valid_until.isoformat() if data.valid_until else None,
            )
            periods.append(period)
    return periods


def delete_opening_period(actor: Actor, location_id: int, period_id: int) -> None:
    location = location_for_config(actor, location_id)
    with transaction():
        period = _of_location(OpeningPeriod, period_id, location.id)
        audit.record(
            "appointment.config_hours_deleted",
            actor,
            target=period,
            location_id=location.id,
            weekday=period.weekday,
            opens=period.opens.isoformat("minutes"),
            closes=period.closes.isoformat("minutes"),
        )
        db.session.delete(period)


# Closures ------------------------------------------------------------------------------------------------


def add_closure(actor: Actor, location_id: int, data: ClosureData) -> Closure:
    """Close a location for a day or a range of days; already booked appointments stay (the desk cancels them)."""
    location = location_for_config(actor, location_id)
    last_day = data.last_day or data.first_day
    if last_day < data.first_day:
        raise ConfigError(_l("Der letzte Tag darf nicht vor dem ersten liegen."), "last_day")
    reason = (data.reason or "").strip()
    if len(reason) > 200:
        raise ConfigError(_l("Höchstens 200 Zeichen."), "reason")
    with transaction():
        closure = Closure(location_id=location.id, first_day=data.first_day, last_day=last_day, reason=reason)
        db.session.add(closure)
        audit.record(
            "appointment.config_closure_saved",
            actor,
            target=closure,
            location_id=location.id,
            first_day=data.first_day.isoformat(),
            last_day=last_day.isoformat(),
            reason=reason,
        )
    return closure


def delete_closure(actor: Actor, location_id: int, closure_id: int) -> None:
    location = location_for_config(actor, location_id)
    with transaction():
        closure = _of_location(Closure, closure_id, location.id)
        audit.record(
            "appointment.config_closure_deleted",
            actor,
            target=closure,
            location_id=location.id,
            first_day=closure.first_day.isoformat(),
            last_day=closure.last_day.isoformat(),
        )
        db.session.delete(closure)
