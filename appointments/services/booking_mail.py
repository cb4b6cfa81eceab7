"""The mails a booking sends the citizen, each with the iCalendar file for the change it reports.

Called inside the booking service's transaction: the outbox row commits with the change or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from appointments.models import Booking
from appointments.services.catalogue import service_facts, service_names
from appointments.services.qr import qr_png
from portal.accounts.models import Organisation
from portal.departments.models import Location
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import Attachment, enqueue
from portal.timeutil import to_berlin

SUBJECTS: dict[str, Callable[[str | None], Any]] = {
    "appointment_booked": lambda reference: _l("Ihr Termin %(reference)s", reference=reference),
    "appointment_reserved": lambda reference: _l(
        "Bitte bestätigen Sie Ihren Termin %(reference)s", reference=reference
    ),
    "appointment_confirmed": lambda reference: _l("Termin %(reference)s bestätigt", reference=reference),
    "appointment_rescheduled": lambda reference: _l("Termin %(reference)s verschoben", reference=reference),
    "appointment_cancelled": lambda reference: _l("Termin %(reference)s abgesagt", reference=reference),
    "appointment_released": lambda reference: _l("Termin %(reference)s freigegeben", reference=reference),
}


def manage_url(reference: str, token: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/termine/verwalten/{reference}/{token}"


def confirm_url(reference: str, token: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/termine/bestaetigen/{reference}/{token}"


def _services(booking: Booking) -> list[str]:
    """The booked services, named in the mail's language."""
    names = service_names((item.catalogue_service_id for item in booking.items), booking.language or "de")
    return [
        f"{item.quantity} × {names.get(item.catalogue_service_id, '?')}"
        if item.quantity > 1
        else names.get(item.catalogue_service_id, "?")
        for item in booking.items
    ]


def send(
    booking: Booking,
    template: str,
    *,
    method: str = "REQUEST",
    token: str | None = None,
    **extra: Any,
) -> OutboxMessage | None:
    """Enqueue `templates/mail/<template>` for the booking's citizen with the calendar file attached.

    `token` (the manage token in clear) is only known right after booking or when the citizen used a link;
    with it the mail carries the manage link (and the confirm link while the booking is reserved).
    """
    if not booking.email:
        return None
    from appointments.ics import booking_calendar

    location = db.session.get(Location, booking.location_id)
    assert location is not None
    manage = manage_url(booking.reference or "", token) if token else None
    calendar = booking_calendar(booking, method, manage_url=manage)
    reserved = template == "appointment_booked" and booking.confirm_by is not None and booking.confirmed_at is None
    subject_key = "appointment_reserved" if reserved else template
    attachments = [Attachment("termin.ics", f"text/calendar; method={method}", calendar)]
    if method != "CANCEL":  # shown at the desk for check-in; a cancelled booking has nothing to check in
        attachments.append(Attachment("check-in-code.png", "image/png", qr_png(booking.reference or "")))
    # What to bring matters only for a visit still to come.
    facts = service_facts((item.catalogue_service_id for item in booking.items), booking.language or "de")
    if method == "CANCEL":
        facts = []
    # Booked while acting for a business: the mail says for whom, as the check and done pages do.
    organisation = db.session.get(Organisation, booking.organisation_id) if booking.organisation_id else None
    return enqueue(
        booking.email,
        SUBJECTS[subject_key](booking.reference),
        template,
        language=booking.language or "de",
        attachments=[
            Attachment("termin.ics", f"text/calendar; method={method}", calendar),
            # Shown at the desk for check-in; a cancelled booking has nothing to check in.
            *(
                [Attachment("check-in-code.png", "image/png", qr_png(booking.reference or ""))]
                if method != "CANCEL"
                else []
            ),
        ],
        booking=booking,
        location=location,
        services=_services(booking),
        facts=facts,
        organisation=organisation,
        starts=to_berlin(booking.starts_at),
        ends=to_berlin(booking.ends_at),
        confirm_by=to_berlin(booking.confirm_by) if booking.confirm_by else None,
        manage_link=manage,
        confirm_link=confirm_url(booking.reference or "", token) if token and reserved else None,
        **extra,
    )
