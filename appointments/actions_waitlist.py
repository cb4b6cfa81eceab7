"""Audit actions of the waitlist and the reminders. Imported by their services, so they exist before use."""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

declare("appointment.waitlist_joined", ["entry_id", "location_ids", "first_day", "last_day"], "Joined a waitlist")
declare("appointment.waitlist_offered", ["entry_id", "reference", "starts_at"], "A freed slot was offered")
declare("appointment.waitlist_accepted", ["entry_id", "reference"], "A waitlist offer was accepted")
declare("appointment.waitlist_declined", ["entry_id", "reference", "keep"], "A waitlist offer was declined")
declare("appointment.waitlist_offer_lapsed", ["entry_id", "reference"], "A waitlist offer was not answered in time")
declare("appointment.waitlist_left", ["entry_id"], "Left a waitlist")
declare("appointment.waitlist_expired", ["entry_id", "reason"], "A waitlist entry ended without a booking")
declare("appointment.reminder_sent", ["reference"], "A reminder mail was sent")
declare("appointment.attendance_confirmed", ["reference"], "The citizen said they will come")

describe_action("appointment.waitlist_joined", _l("Auf die Warteliste gesetzt"))
describe_action("appointment.waitlist_offered", _l("Termin von der Warteliste angeboten"))
describe_action("appointment.waitlist_accepted", _l("Angebot von der Warteliste angenommen"))
describe_action("appointment.waitlist_declined", _l("Angebot von der Warteliste abgelehnt"))
describe_action("appointment.waitlist_offer_lapsed", _l("Angebot von der Warteliste nicht rechtzeitig angenommen"))
describe_action("appointment.waitlist_left", _l("Warteliste verlassen"))
describe_action("appointment.waitlist_expired", _l("Wartelisten-Eintrag beendet"))
describe_action("appointment.reminder_sent", _l("Terminerinnerung verschickt"))
describe_action("appointment.attendance_confirmed", _l("Teilnahme am Termin zugesagt"))
