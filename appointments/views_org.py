"""A business's bookings: what its members booked while acting for it ("Handeln für ...")."""

from __future__ import annotations

from flask import abort, render_template

from appointments.models import ACTIVE_STATUSES
from appointments.services import my_bookings
from appointments.views import booking_details, bp
from portal import access
from portal.accounts.services import organisations
from portal.accounts.services.common import NotAllowedError
from portal.actors import current_actor
from portal.timeutil import as_utc, utcnow


@bp.get("/organisation/<int:organisation_id>")
@access.signed_in
def organisation_bookings(organisation_id: int):
    actor = current_actor()
    try:
        membership = organisations.get_organisation(actor, organisation_id)
        bookings = my_bookings.organisation_bookings(actor, organisation_id)
    except NotAllowedError:
        abort(404)
    now = utcnow()
    upcoming = sorted(
        (b for b in bookings if b.status in ACTIVE_STATUSES and as_utc(b.ends_at) > now), key=lambda b: b.starts_at
    )
    return render_template(
        "appointments/organisation.html",
        organisation=membership.organisation,
        upcoming=upcoming,
        earlier=[b for b in bookings if b not in upcoming],
        details={b.id: booking_details(b) for b in bookings},
    )
