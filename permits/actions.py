"""The permit service's audit actions, and how an applicant reads those about their case.

Every state change of a case is one event naming the case by its reference (once it has one) and the states
before and after; the applicant is its subject, so their own log (/konto/protokoll) lists it. Changes to the
catalogue (street list, use types, exemption reasons, tariff versions) are audited too.
"""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

_CASE = ["case", "was", "state"]
declare("permits.application_started", ["case", "use_type"], "An applicant started a permit application (draft)")
declare("permits.application_saved", ["case", "fields"], "An applicant saved changes to a draft application")
declare(
    "permits.application_submitted",
    [*_CASE, "fee_cents", "tariff_effective_from"],
    "A permit application was submitted with its reference and the fee under the tariff in force that day",
)
declare(
    "permits.attachment_removed", ["case", "kind"], "The applicant removed an attachment (draft or requested documents)"
)
declare("permits.draft_deleted", ["case", "attachments"], "The applicant deleted a draft application with its files")
declare("permits.application_withdrawn", _CASE, "The applicant withdrew a permit application")
declare(
    "permits.application_moved",
    [*_CASE, "note", "department_id"],
    "A permit case moved to another state (formal check, documents requested, consultation, decision, ...)",
)

describe_action("permits.application_started", _l("Sie haben einen Antrag auf Sondernutzung begonnen"))
describe_action("permits.application_saved", _l("Sie haben Ihren Antrag auf Sondernutzung gespeichert"))
describe_action("permits.application_submitted", _l("Sie haben einen Antrag auf Sondernutzung eingereicht"))
describe_action(
    "permits.attachment_removed", _l("Sie haben eine Unterlage aus Ihrem Antrag auf Sondernutzung entfernt")
)
describe_action("permits.draft_deleted", _l("Sie haben einen Entwurf eines Antrags auf Sondernutzung gelöscht"))
describe_action("permits.application_withdrawn", _l("Sie haben Ihren Antrag auf Sondernutzung zurückgezogen"))
describe_action(
    "permits.application_moved", _l("Der Bearbeitungsstand Ihres Antrags auf Sondernutzung hat sich geändert")
)

# The catalogue (permits.services.catalogue).
declare("permits.street_zone_saved", ["street", "zone", "was"], "A street was put into a fee zone (or moved)")
declare("permits.street_zone_removed", ["street", "zone"], "A street was taken off the street-to-zone list")
declare(
    "permits.use_type_saved",
    ["code", "unit", "lead_working_days", "required_attachments", "active"],
    "A use type of the permit catalogue was added or changed",
)
declare(
    "permits.exemption_reason_saved",
    ["code", "percent", "covers_administrative_fee"],
    "A reason for fee exemption was added or changed",
)
declare(
    "permits.tariff_added",
    ["effective_from", "rates", "minimum_fee_cents", "administrative_fee_cents"],
    "A tariff version of the special-use statute was added",
)

# The clerk's side (permits.services.desk, .decisions, .fee_payments).
declare(
    "permits.formal_check_passed",
    ["case", "was", "state", "department_id"],
    "A clerk found a permit application complete (formal check passed); it may now be decided",
)
declare(
    "permits.documents_requested",
    [*_CASE, "note", "department_id"],
    "A clerk asked the applicant for missing documents, with a note the applicant sees on their case",
)
declare(
    "permits.application_granted",
    [*_CASE, "valid_from", "valid_until", "conditions", "department_id"],
    "A clerk granted a special-use permit with its conditions and validity (the permit PDF is stored)",
)
declare(
    "permits.application_refused",
    [*_CASE, "reasons", "department_id"],
    "A clerk refused a permit application with reasons (the refusal PDF is stored)",
)
declare(
    "permits.fee_notice_issued",
    [*_CASE, "kassenzeichen", "amount_cents"],
    "The fee notice of a granted permit went out with the Kassenzeichen of its payment order",
)
declare("permits.fee_paid", [*_CASE, "kassenzeichen"], "The fee of a permit was paid (payments' success callback)")
declare("permits.permit_activated", [*_CASE, "why"], "A permit came into force: paid, or exempt from the fee")
declare(
    "permits.permit_extended",
    [*_CASE, "extension", "extended_until"],
    "An extension of a permit in force was granted: the original is marked extended (naming the extension)",
)
declare("permits.permit_ended", [*_CASE, "valid_until"], "A permit's period is over (the daily calendar job)")
declare(
    "permits.extension_started",
    ["case", "extends", "use_type"],
    "An applicant asked to extend an active permit: a new draft linked to it, prefilled",
)

describe_action("permits.formal_check_passed", _l("Ihr Antrag auf Sondernutzung ist vollständig"))
describe_action(
    "permits.documents_requested", _l("Das Amt hat Unterlagen zu Ihrem Antrag auf Sondernutzung angefordert")
)
describe_action("permits.application_granted", _l("Ihre Sondernutzungserlaubnis wurde erteilt"))
describe_action("permits.application_refused", _l("Ihr Antrag auf Sondernutzung wurde abgelehnt"))
describe_action("permits.fee_notice_issued", _l("Der Gebührenbescheid zu Ihrer Sondernutzung wurde erstellt"))
describe_action("permits.fee_paid", _l("Die Gebühr für Ihre Sondernutzung ist bezahlt"))
describe_action("permits.permit_activated", _l("Ihre Sondernutzungserlaubnis gilt"))
describe_action("permits.permit_extended", _l("Ihre Sondernutzungserlaubnis wurde verlängert"))
describe_action("permits.permit_ended", _l("Ihre Sondernutzungserlaubnis ist abgelaufen"))
describe_action("permits.extension_started", _l("Sie haben die Verlängerung einer Sondernutzungserlaubnis begonnen"))

# Statements of other departments (permits.services.statements).
declare(
    "permits.statement_requested",
    ["case", "department_id", "asked_department_id", "due_on"],
    "A clerk asked another department for its statement on a permit case",
)
declare(
    "permits.statement_answered",
    ["case", "department_id", "verdict", "has_conditions"],
    "A member of the asked department answered a statement request on a permit case",
)
describe_action(
    "permits.statement_requested", _l("Das Amt hat ein anderes Amt zu Ihrem Antrag um Stellungnahme gebeten")
)
describe_action("permits.statement_answered", _l("Ein beteiligtes Amt hat zu Ihrem Antrag Stellung genommen"))
