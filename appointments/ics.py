"""iCalendar files for bookings (RFC 5545/5546) and the clerks' subscription feeds.

Calendar clients match an update to the event they already hold by UID and accept it only when SEQUENCE
rose; a file that breaks either rule leaves a stale or duplicated appointment in the citizen's calendar.
So every file about one booking carries `booking.uid` (fixed at booking time) and `booking.sequence` (raised
by the booking services on every change), and METHOD says what the file means: REQUEST (booked or moved),
CANCEL (cancelled), PUBLISH (a read-only feed).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from email.utils import parseaddr

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress, vDuration
from icalendar.enums import STATUS

from appointments.models import Booking, BookingStatus
from portal.departments.models import CatalogueService, Department, Location
from portal.extensions import db
from portal.timeutil import BERLIN, as_utc, to_berlin, utcnow

PRODID = "-//Stadtportal//Termine//DE"
FEED_REFRESH = timedelta(minutes=15)
# Remind a day ahead; when the appointment is closer than that (booked at short notice) two hours ahead.
ALARM_EARLY = timedelta(days=1)
ALARM_LATE = timedelta(hours=2)

METHODS = ("REQUEST", "CANCEL")
TIMEZONE_MARGIN = timedelta(days=183)


def booking_calendar(booking: Booking, method: str, *, manage_url: str | None = None) -> bytes:
    """The file attached to a confirmation (REQUEST), reschedule (REQUEST) or cancellation (CANCEL) mail.

    `manage_url` (the mailed link with its secret token) goes into the description when the caller has it;
    only the hash of the token is stored, so this module cannot build the link itself.
    """
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    location = db.session.get(Location, booking.location_id)
    assert location is not None  # a booking's location is a foreign key
    names = _service_names([booking])
    with force_locale(booking.language or "de"):
        if method == "CANCEL":
            status = "CANCELLED"
        elif booking.status in (BookingStatus.RESERVED, BookingStatus.OFFERED):
            status = "TENTATIVE"
        else:
            status = "CONFIRMED"
        summary = _("Termin: %(services)s", services=_services_text(booking, names))
        organizer = _organizer(location)
        attendees = []
        if booking.email:
            attendees.append(
                vCalAddress.new(
                    booking.email,
                    cn=booking.name or None,
                    role="REQ-PARTICIPANT",
                    partstat="ACCEPTED",
                    rsvp=False,
                )
            )
        description = _description(booking, location, manage_url)
        event = _event(booking, location, summary=summary, status=status, description=description)
        event.add("organizer", organizer)
        for attendee in attendees:
            event.add("attendee", attendee)
        if method == "REQUEST":
            event.add_component(_alarm(booking, summary))
        calendar = Calendar.new(prodid=PRODID, method=method, subcomponents=[event])
    # Calendar.new() adds a random calendar UID (RFC 7986); iTIP files identify the event by its own UID,
    # and strict importers reject properties RFC 5545 does not know on VCALENDAR.
    calendar.pop("UID", None)
    _add_timezone(calendar, [booking])
    return calendar.to_ical()


def feed_calendar(location_id: int, bookings: Sequence[Booking], *, show_names: bool) -> bytes:
    """A PUBLISH calendar of a location's bookings for a clerk's subscription.

    Citizens' names appear only with `show_names` (the clerk's opt-in); e-mail addresses and phone numbers
    never do, since a feed URL travels through calendar servers outside the city's control.
    """
    location = db.session.get(Location, location_id)
    if location is None:
        raise ValueError(f"unknown location {location_id}")
    names = _service_names(bookings)
    events = []
    for booking in bookings:
        services = _services_text(booking, names)
        summary = _("Termin %(reference)s: %(services)s", reference=booking.reference or "", services=services)
        if show_names and booking.name:
            summary = f"{summary} – {booking.name}"
        status = "TENTATIVE" if booking.status in (BookingStatus.RESERVED, BookingStatus.OFFERED) else "CONFIRMED"
        if not booking.is_active:
            status = "CANCELLED"
        description = _("Vorgangsnummer: %(reference)s", reference=booking.reference or "")
        events.append(_event(booking, location, summary=summary, status=status, description=description))
    calendar = Calendar.new(
        prodid=PRODID,
        method="PUBLISH",
        # Stable across fetches, so a client recognises the same subscription.
        uid=uuid.uuid5(uuid.NAMESPACE_URL, f"stadtportal:appointments:location:{location.id}"),
        name=_("Termine %(location)s", location=location.name),
        subcomponents=events,
    )
    # RFC 7986 requires VALUE=DURATION on REFRESH-INTERVAL; X-PUBLISHED-TTL is its older name, which
    # Outlook still reads.
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    calendar.add("x-wr-timezone", "Europe/Berlin")
    _add_timezone(calendar, bookings)
    return calendar.to_ical()


def _event(booking: Booking, location: Location, *, summary: str, status: str, description: str) -> Event:
    event = Event.new(
        uid=booking.uid,
        sequence=booking.sequence,
        start=to_berlin(booking.starts_at),
        end=to_berlin(booking.ends_at),
        stamp=utcnow(),
        summary=summary,
        location=f"{location.name}, {location.address}",
        status=STATUS(status),
        description=description,
    )
    if location.latitude is not None and location.longitude is not None:
        event.add("geo", (location.latitude, location.longitude))
    return event


def _alarm(booking: Booking, summary: str) -> Alarm:
    ahead = as_utc(booking.starts_at) - utcnow()
    trigger = ALARM_EARLY if ahead > ALARM_EARLY + ALARM_LATE else ALARM_LATE
    return Alarm.new_display(description=summary, trigger=-trigger)


def _organizer(location: Location) -> vCalAddress:
    department = db.session.get(Department, location.department_id)
    name, address = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    if department is not None and department.email:
        return vCalAddress.new(department.email, cn=department.name)
    return vCalAddress.new(address or "noreply@stadtportal.example", cn=name or "Stadtportal")


def _description(booking: Booking, location: Location, manage_url: str | None) -> str:
    lines = [
        _("Vorgangsnummer: %(reference)s", reference=booking.reference or ""),
        _("Ort: %(name)s, %(address)s", name=location.name, address=location.address),
    ]
    if manage_url:
        lines.append(_("Termin ansehen, verschieben oder absagen: %(url)s", url=manage_url))
    return "\n".join(lines)


def _service_names(bookings: Iterable[Booking]) -> dict[int, str]:
    ids = {item.catalogue_service_id for booking in bookings for item in booking.items}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(CatalogueService.id, CatalogueService.name).where(CatalogueService.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _services_text(booking: Booking, names: dict[int, str]) -> str:
    parts = []
    for item in booking.items:
        name = names.get(item.catalogue_service_id, "?")
        parts.append(f"{item.quantity} × {name}" if item.quantity > 1 else name)
    return ", ".join(parts) or _("Termin")


def _add_timezone(calendar: Calendar, bookings: Iterable[Booking]) -> None:
    """One VTIMEZONE for Europe/Berlin around the bookings' dates, so the file stays small.

    Half a year either side puts one summer-time and one winter-time rule into it: some clients
    (older Outlook) mis-handle a Europe/Berlin definition that has only one of them.
    """
    days = [to_berlin(b.starts_at).date() for b in bookings] + [to_berlin(b.ends_at).date() for b in bookings]
    today = datetime.now(BERLIN).date()
    first: date = min(days, default=today) - TIMEZONE_MARGIN
    last: date = max(days, default=today) + TIMEZONE_MARGIN
    calendar.add_missing_timezones(first_date=first, last_date=last)
