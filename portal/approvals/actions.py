"""Audit actions of four-eyes approvals: the request and its outcome are both on the trail."""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

declare(
    "approval.requested",
    ["reference", "kind", "subject_type", "subject_id", "reason"],
    "A change was put up for approval by a second person",
)
declare("approval.approved", ["reference", "kind", "requested_by", "note"], "A second person approved a request")
declare("approval.rejected", ["reference", "kind", "requested_by", "note"], "A second person rejected a request")
declare("approval.withdrawn", ["reference", "kind"], "The requester withdrew an open request")
declare("approval.closed", ["reference", "kind", "note"], "An open request was closed undecided, its case ended")

# Shown under Mein Konto → Protokoll when the kind lets the citizen see its events.
describe_action("approval.requested", _l("Vorgang zur Freigabe durch eine zweite Person vorgelegt"))
describe_action("approval.approved", _l("Vorgang von einer zweiten Person freigegeben"))
describe_action("approval.rejected", _l("Freigabe eines Vorgangs abgelehnt"))
describe_action("approval.withdrawn", _l("Vorlage zur Freigabe zurückgezogen"))
describe_action("approval.closed", _l("Vorlage zur Freigabe ohne Entscheidung geschlossen"))
