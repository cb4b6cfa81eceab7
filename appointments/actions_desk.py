"""Audit actions of the clerk's desk. Imported by appointments.services.desk, so they exist before use."""

from portal.audit.registry import declare

declare("appointment.checked_in", ["location_id", "queue_number"], "A visitor checked in at the desk")
declare("appointment.called", ["location_id", "queue_number", "counter"], "A waiting visitor was called")
declare("appointment.served", ["location_id"], "A visit was marked as served")
declare("appointment.no_show", ["location_id"], "A booked visitor did not come")
declare("appointment.walk_in", ["location_id", "queue_number"], "A visitor without appointment got a number")
declare(
    "appointment.day_cancelled",
    ["location_id", "day", "reason"],
    "A closed day: its bookings were cancelled (one event per booking and one for the closure)",
)
declare("appointment.display_token_created", ["location_id", "label"], "A waiting-room screen got a display link")
declare(
    "appointment.display_token_revoked", ["location_id", "label"], "A waiting-room screen's display link was revoked"
)
declare(
    "appointment.closure_cancelled",
    ["location_id", "first_day", "last_day", "reason"],
    "Bookings inside a newly added closure were cancelled (one event per booking)",
)
