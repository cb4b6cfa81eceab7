"""Audit actions of booking. Imported by appointments.services.booking, so they exist before use.

Each event about a booking carries its reference; the citizen sees theirs under Mein Konto → Protokoll
because the services set subject_user_id to the booking's user.
"""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

declare("appointment.booked", ["reference", "location_id", "starts_at", "status"], "An appointment was booked")
declare("appointment.confirmed", ["reference"], "A booking was confirmed by its mailed link")
declare("appointment.rescheduled", ["reference", "from", "to"], "A booking was moved to another time")
declare("appointment.cancelled", ["reference", "reason"], "A booking was cancelled")
declare("appointment.released", ["reference", "reason"], "A held booking was released (not confirmed in time)")

# What the citizen reads under Mein Konto → Protokoll.
describe_action("appointment.booked", _l("Termin gebucht"))
describe_action("appointment.confirmed", _l("Termin bestätigt"))
describe_action("appointment.rescheduled", _l("Termin verschoben"))
describe_action("appointment.cancelled", _l("Termin abgesagt"))
describe_action("appointment.released", _l("Nicht bestätigter Termin freigegeben"))
