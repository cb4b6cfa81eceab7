"""The data-access service's audit actions, and how a citizen reads those about them.

Accesses carry the well-known keys PURPOSE, LEGAL_BASIS and DEPARTMENT_ID (portal.audit.registry), so the
citizen's Protokoll says why, on which legal ground and by which office their data was read. Detail keys avoid
the words the trail masks as secrets ("code", "token", ...): a purpose's code is its "identifier".
"""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import DEPARTMENT_ID, LEGAL_BASIS, PURPOSE, declare

# Catalogue: datasets and fields (the owning department's data steward), purposes and legal bases (the dpo).
declare("dataaccess.dataset_saved", ["key", "name", "department_id"], "A dataset was registered or changed")
declare("dataaccess.field_saved", ["dataset", "name", "category", "special_category"], "A dataset field was saved")
declare("dataaccess.purpose_saved", ["identifier", "label"], "A purpose of the catalogue was created or changed")
declare("dataaccess.legal_basis_saved", ["label", "citation"], "A legal basis was created or changed")

# Agreements: drafted, submitted for the two approvals, approved (or rejected), revoked, superseded.
declare("dataaccess.agreement_drafted", ["reference", "version"], "A draft access agreement was written")
declare("dataaccess.agreement_changed", ["reference", "version"], "A draft access agreement was changed")
declare(
    "dataaccess.agreement_submitted",
    ["reference", "version", "steward_approval", "dpo_approval"],
    "An access agreement was submitted to the data steward and the dpo",
)
declare(
    "dataaccess.agreement_approval_recorded",
    ["reference", "version", "role"],
    "One of the two approvals of an access agreement was given; it waits for the other",
)
declare(
    "dataaccess.agreement_approved",
    ["reference", "version", "superseded_version"],
    "Both approvals given: the access agreement is in force from its first day",
)
declare("dataaccess.agreement_rejected", ["reference", "version", "role", "reason"], "An access agreement was rejected")
declare(
    "dataaccess.agreement_withdrawn",
    ["reference", "version"],
    "The submitter took an access agreement back from approval; it is a draft again",
)
declare("dataaccess.agreement_revoked", ["reference", "version", "reason"], "An access agreement was revoked")

# Records kept in the portal's own store, and machine clients.
declare("dataaccess.record_saved", ["dataset", "record_key"], "A record of a dataset was stored or changed")
declare(
    "dataaccess.records_purged",
    ["dataset", "count", "retention_days"],
    "Records of the portal's own store outlived their dataset's retention period and were deleted",
)
declare(
    "dataaccess.client_bound",
    ["client_id", "department_id", "agreement"],
    "An API token was bound to the department (and agreement) it reads for",
)

# Accesses: granted (the data left the owning department) and refused (nothing was returned).
declare(
    "dataaccess.record_read",
    [PURPOSE, LEGAL_BASIS, DEPARTMENT_ID, "agreement", "version", "dataset", "fields", "case_reference"],
    "A department read data about a person or case under an access agreement",
)
declare(
    "dataaccess.access_refused",
    ["reason", "agreement", "fields"],
    "An access to data was refused by a rule of the agreement; nothing was returned",
)

# The citizen's own requests for once-only fetching.
declare(
    "dataaccess.citizen_request_created",
    [PURPOSE, DEPARTMENT_ID, "dataset", "standing"],
    "A citizen asked a department to fetch their data from another department",
)
declare("dataaccess.citizen_request_revoked", ["dataset"], "A citizen revoked their request for fetching their data")

describe_action("dataaccess.record_read", _l("Ein Amt hat Daten über Sie bei einem anderen Amt abgerufen"))
describe_action("dataaccess.access_refused", _l("Ein Abruf von Daten über Sie wurde abgelehnt"))
describe_action("dataaccess.record_saved", _l("Daten über Sie in einem Register der Stadt gespeichert"))
describe_action(
    "dataaccess.citizen_request_created", _l("Sie haben den Abruf Ihrer Daten durch ein anderes Amt beantragt")
)
describe_action("dataaccess.citizen_request_revoked", _l("Sie haben Ihren Antrag auf Datenabruf widerrufen"))

# Break-glass: an emergency access without an agreement, time-boxed, reviewed by the dpo afterwards.
declare(
    "dataaccess.breakglass_opened",
    [DEPARTMENT_ID, "dataset", "category", "reason", "expires_at"],
    "An official opened an emergency access (break-glass) to another department's dataset; owner and dpo alerted",
)
declare("dataaccess.breakglass_ended", ["dataset"], "An official ended their emergency access before its time ran out")
declare(
    "dataaccess.breakglass_read",
    [PURPOSE, LEGAL_BASIS, DEPARTMENT_ID, "breakglass", "dataset", "fields", "category"],
    "A department read data about a person or case in an emergency access, without an access agreement",
)
declare(
    "dataaccess.breakglass_reviewed",
    ["breakglass", "finding", "note", "reads"],
    "The dpo reviewed an emergency access and found it justified or not justified",
)

describe_action(
    "dataaccess.breakglass_read",
    _l("Notfallzugriff: Ein Amt hat in einer Notlage Daten über Sie bei einem anderen Amt abgerufen"),
)
