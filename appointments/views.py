"""HTML routes of the appointments service: the start page and what the booking and manage pages share.

The booking wizard lives in views_booking*.py, the pages reached by the mailed links and "Meine Termine" in
views_manage.py, the waitlist and reminder answers in views_waitlist.py; they add routes to this blueprint
and are imported at the end of this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date, format_datetime
from flask import Blueprint, Response, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from appointments.errors import BookingError
from appointments.services import availability, case_links, catalogue, fees, my_bookings
from portal import access
from portal.actors import current_actor
from portal.references import format_kassenzeichen
from portal.timeutil import BERLIN, to_berlin, utcnow

bp = Blueprint("appointments", __name__, url_prefix="/termine")

# The calendar shows two weeks at a time: enough to choose from, short enough for a screen reader.
CALENDAR_DAYS = 14


def _locale() -> str:
    return str(get_locale() or "de")


def long_time(value: datetime) -> str:
    """Di., 1. Dezember 2026, 09:10 Uhr"""
    return format_datetime(to_berlin(value), _("EEE, d. MMMM y, HH:mm 'Uhr'"), tzinfo=BERLIN, locale=_locale())


def clock(value: datetime) -> str:
    return format_datetime(to_berlin(value), _("HH:mm 'Uhr'"), tzinfo=BERLIN, locale=_locale())


def long_day(value: date) -> str:
    """Dienstag, 1. Dezember 2026"""
    return format_date(value, _("EEEE, d. MMMM y"), locale=_locale())


def short_day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = to_berlin(value).date()
    return format_date(value, _("EEE, d. MMM"), locale=_locale())


def slot_label(start: datetime) -> str:
    """A free time on a page listing several days. How many parallel seats are left is the office's concern,
    not the citizen's: a time is free or it is not."""
    return long_time(start)


# Parts of the day the free times are grouped by (local start hour from which a part begins).
DAY_PARTS: list[tuple[int, Any]] = [(0, _l("Vormittag")), (12, _l("Nachmittag")), (17, _l("Abend"))]


def day_part(start: datetime) -> str:
    hour = to_berlin(start).hour
    return str(next(name for begins, name in reversed(DAY_PARTS) if hour >= begins))


def iso(value: datetime) -> str:
    return value.astimezone(BERLIN).isoformat()


# The days a time picked on a booking page may fall on: a year inside Python's calendar either way.
FIRST_DAY, LAST_DAY = date(2, 1, 1), date(9998, 12, 31)


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # "9999-12-31T23:59:59-23:59" parses, but lies beyond the last instant Python can hold in UTC or Berlin time
    # (OverflowError in the slot arithmetic); no appointment is that far off.
    if not FIRST_DAY <= parsed.date() <= LAST_DAY:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@dataclass
class CalendarDay:
    day: date
    state: str  # free, booked_out, closed, past, over (today's times are over), not_yet
    free: int = 0
    bookable_from: datetime | None = None  # not_yet: when the day's first opening enters the booking horizon

    @property
    def iso(self) -> str:
        return self.day.isoformat()


@dataclass
class Calendar:
    """Two weeks of days for one location and visit, with the free times of the chosen day."""

    first: date
    last: date
    weeks: list[list[CalendarDay]]
    earlier: date | None
    later: date | None
    chosen_day: date | None
    times: list[tuple[str, str]] = field(default_factory=list)  # (iso start, clock time) of the chosen day
    # The same times by part of the day: [(part name, [iso start, ...]), ...] in order.
    parts: list[tuple[str, list[str]]] = field(default_factory=list)
    next_free: date | None = None  # the first free day in the window, for "jump to"

    def without(self, value: str) -> None:
        """Leave one start (iso) out of the offered times, e.g. the booking's current time when rescheduling."""
        self.times = [(start, label) for start, label in self.times if start != value]
        parts = [(name, [start for start in starts if start != value]) for name, starts in self.parts]
        self.parts = [(name, starts) for name, starts in parts if starts]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_calendar(location_id: int, items: list[tuple[int, int]], start: date | None, chosen: date | None) -> Calendar:
    """The calendar of free times: two weeks from the Monday of `start` (default: this week).

    Days without free times read "geschlossen" when the location does not open that day and "ausgebucht"
    when it does; the slot engine says which days it opens (holidays and closures included). A day that
    opens beyond the booking horizon (also the horizon's own day, where it opens later than the horizon
    reaches) is "noch nicht buchbar", with the moment it becomes bookable.
    """
    today = utcnow().astimezone(BERLIN).date()
    horizon = _last_bookable_day(location_id)
    first = _monday(max(start or chosen or today, today))
    last = first + timedelta(days=CALENDAR_DAYS - 1)
    slots = availability.free_slots(location_id, items, max(first, today), last)
    by_day: dict[date, list] = {}
    for slot in slots:
        by_day.setdefault(to_berlin(slot.start).date(), []).append(slot)
    open_days = _open_days(location_id, first, last)
    days = []
    for offset in range(CALENDAR_DAYS):
        day = first + timedelta(days=offset)
        if day < today:
            days.append(CalendarDay(day, "past"))
        elif day in by_day:
            days.append(CalendarDay(day, "free", len(by_day[day])))
        elif day not in open_days:
            days.append(CalendarDay(day, "closed"))
        elif day >= horizon and (opens := availability.bookable_from(location_id, day)) is not None:
            days.append(CalendarDay(day, "not_yet", bookable_from=opens))
        elif day > horizon:
            days.append(CalendarDay(day, "not_yet"))
        elif day == today and availability.closed_for_today(location_id, day):
            days.append(CalendarDay(day, "over"))
        else:
            days.append(CalendarDay(day, "booked_out"))
    later_first = last + timedelta(days=1)
    calendar = Calendar(
        first=first,
        last=last,
        weeks=[days[i : i + 7] for i in range(0, CALENDAR_DAYS, 7)],
        earlier=first - timedelta(days=CALENDAR_DAYS) if first > _monday(today) else None,
        later=later_first if later_first <= horizon else None,
        chosen_day=chosen if chosen is not None and first <= chosen <= last else None,
        next_free=min(by_day) if by_day else None,
    )
    if calendar.chosen_day is not None:
        set_times(calendar, [s.start for s in by_day.get(calendar.chosen_day, [])])
    return calendar


def set_times(calendar: Calendar, starts: list[datetime]) -> None:
    """The chosen day's free times, as choices and grouped by part of the day."""
    calendar.times = [(iso(start), clock(start)) for start in starts]
    calendar.parts = []
    for start in starts:
        part = day_part(start)
        if not calendar.parts or calendar.parts[-1][0] != part:
            calendar.parts.append((part, []))
        calendar.parts[-1][1].append(iso(start))


def _last_bookable_day(location_id: int) -> date:
    _earliest, latest = availability.booking_window(location_id)
    return to_berlin(latest).date()


def _open_days(location_id: int, first: date, last: date) -> set[date]:
    return set(availability.opening_days(location_id, first, last))


def locations_for(items: list[tuple[int, int]]) -> list[tuple[Any, int]]:
    """(location, minutes of the visit there) for the locations offering every chosen service."""
    if not items:
        return []
    try:
        candidates = catalogue.locations_offering(items[0][0])
    except BookingError:
        return []
    found = []
    for location in candidates:
        try:
            found.append((location, availability.duration_for(location.id, items)))
        except BookingError:
            continue
    return found


def ics_response(body: bytes, reference: str | None) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="termin-{reference or "stadtportal"}.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


def booking_details(found: Any, facts: bool = False) -> dict[str, Any]:
    """What the citizen sees about a booking: services, location with address, duration; with `facts` also what
    to bring and what each service costs (one query more, so lists of bookings leave it out)."""
    names = catalogue.service_names(item.catalogue_service_id for item in found.items)
    locations = (
        {loc.id: loc for loc, _m in locations_for([(found.items[0].catalogue_service_id, 1)])} if found.items else {}
    )
    return {
        "services": [(names.get(item.catalogue_service_id, "?"), item.quantity) for item in found.items],
        "location": locations.get(found.location_id),
        "minutes": int((found.ends_at - found.starts_at).total_seconds() // 60),
        "organisation": my_bookings.organisation_of(found),
        # Shown to the booker only: the resolver answers for the person who may see the case.
        "case": case_links.resolve(current_actor(), found.case_key) if found.case_key else None,
        "facts": catalogue.service_facts(item.catalogue_service_id for item in found.items) if facts else [],
    }


@bp.record_once
def _template_helpers(state) -> None:
    # Globals rather than a context processor: the macros in _parts.html are imported without context.
    state.app.jinja_env.globals.update(
        appt_time=long_time,
        appt_day=long_day,
        appt_short_day=short_day,
        appt_day_number=lambda d: format_date(d, _("d."), locale=_locale()),
        appt_clock=clock,
        appt_euro=fees.euro,
        appt_kassenzeichen=format_kassenzeichen,
    )


@bp.get("/")
@access.public
def index():
    return render_template("appointments/index.html", services=catalogue.offered_services())


from appointments import (  # noqa: E402, F401  (routes on the same blueprint)
    views_booking,
    views_booking_check,
    views_booking_done,
    views_manage,
    views_org,
    views_waitlist,
)
