"""Audit actions of fees for booked services. Imported by appointments.services.fees, so they exist before use."""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

declare(
    "appointment.fee_saved",
    ["service_id", "fee_code", "refund_hours_before"],
    "The fee of a catalogue service when booked (a code of the fee catalogue) or its refund policy was set",
)
declare("appointment.fee_removed", ["service_id"], "A catalogue service is booked without a fee again")
declare(
    "appointment.paid",
    ["reference", "kassenzeichen", "amount_cents"],
    "The payment order of a booking was paid (the payments service's callback)",
)

describe_action("appointment.paid", _l("Gebühr für den Termin bezahlt"))
