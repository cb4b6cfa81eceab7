"""The participation service's audit actions, and how a participant reads those about them.

Contributions carry the participant as `subject_user_id`, so their own log (/konto/protokoll) lists them; the
details name the consultation by its slug and a proposal by its reference, never a person's account.
"""

from flask_babel import lazy_gettext as _l

from portal.audit.queries import describe_action
from portal.audit.registry import declare

# Consultations and their timeline (the department's consultation managers).
declare(
    "participation.consultation_created",
    ["slug", "title", "department_id"],
    "A consultation was drafted",
)
declare("participation.consultation_updated", ["slug", "state"], "The texts or settings of a consultation changed")
declare(
    "participation.phase_saved",
    ["slug", "phase", "kind", "starts_at", "ends_at", "actions"],
    "A phase of a consultation's timeline was added or changed",
)
declare("participation.phase_removed", ["slug", "phase", "kind"], "A phase was removed from a consultation's timeline")
declare("participation.consultation_published", ["slug"], "A consultation was published")
declare("participation.consultation_closed", ["slug"], "A consultation was closed: nothing can be added any more")
declare("participation.consultation_archived", ["slug"], "A closed consultation was archived")

# Participants.
declare("participation.pseudonym_chosen", ["name"], "A participant chose the name they appear under")
declare(
    "participation.proposal_created",
    ["consultation", "reference", "state"],
    "A proposal was submitted (state pending: it waits for moderation)",
)
declare("participation.supported", ["consultation", "proposal", "support_count"], "A proposal was supported")
declare(
    "participation.support_withdrawn",
    ["consultation", "proposal", "support_count"],
    "A participant withdrew their support of a proposal",
)
declare(
    "participation.answer_requested",
    ["consultation", "proposal", "support_count", "threshold"],
    "A proposal reached the consultation's support threshold: it is marked for an official answer",
)
declare(
    "participation.comment_created",
    ["consultation", "proposal", "parent", "depth", "state"],
    "A comment or reply was written (state pending: it waits for moderation)",
)
declare("participation.comment_edited", ["consultation", "proposal"], "A comment was edited by its author")

describe_action("participation.pseudonym_chosen", _l("Sie haben Ihren Namen für die Beteiligung gewählt"))
describe_action("participation.proposal_created", _l("Sie haben einen Vorschlag eingereicht"))
describe_action("participation.supported", _l("Sie haben einen Vorschlag unterstützt"))
describe_action("participation.support_withdrawn", _l("Sie haben Ihre Unterstützung zurückgezogen"))
describe_action("participation.comment_created", _l("Sie haben einen Kommentar geschrieben"))
describe_action("participation.comment_edited", _l("Sie haben einen Kommentar bearbeitet"))
