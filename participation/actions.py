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

# Results (participation.services.exports, report): staff took a consultation's data out of the portal.
declare(
    "participation.exported",
    ["consultation", "format", "rows"],
    "Staff exported a consultation's contributions (CSV, XLSX) or its council report (PDF); rows per table",
)

describe_action("participation.pseudonym_chosen", _l("Sie haben Ihren Namen für die Beteiligung gewählt"))
describe_action("participation.proposal_created", _l("Sie haben einen Vorschlag eingereicht"))
describe_action("participation.supported", _l("Sie haben einen Vorschlag unterstützt"))
describe_action("participation.support_withdrawn", _l("Sie haben Ihre Unterstützung zurückgezogen"))
describe_action("participation.comment_created", _l("Sie haben einen Kommentar geschrieben"))
describe_action("participation.comment_edited", _l("Sie haben einen Kommentar bearbeitet"))

# Moderation (participation.services.moderation, moderation_people). The author of a contribution is its
# subject when others' view of it changed; a reporter is the subject of their flag, never the author's.
_MODERATED = ["consultation", "kind", "contribution"]
declare("participation.flagged", [*_MODERATED, "reason"], "A contribution was flagged for moderation")
declare(
    "participation.contribution_hidden",
    [*_MODERATED, "reason", "was", "cause"],
    "A moderator hid a contribution (or refused a pending one) with a reason shown to its author",
)
declare("participation.contribution_restored", [*_MODERATED, "cause"], "A hidden contribution was shown again")
declare(
    "participation.contribution_published",
    [*_MODERATED, "cause"],
    "A pending (pre-moderated) contribution was published",
)
declare("participation.flags_dismissed", [*_MODERATED, "flags"], "A moderator found a contribution's flags unfounded")
declare("participation.appeal_filed", _MODERATED, "The author appealed against hiding their contribution")
declare(
    "participation.appeal_decided",
    [*_MODERATED, "result"],
    "An appeal was decided (granted: the contribution is shown again; rejected: it stays hidden)",
)
declare(
    "participation.user_blocked",
    [*_MODERATED, "days", "until"],
    "A moderator blocked a participant from taking part for a number of days",
)
declare("participation.block_lifted", [], "A moderator lifted a participant's block early")

describe_action("participation.flagged", _l("Sie haben einen Beitrag an die Moderation gemeldet"))
describe_action("participation.contribution_hidden", _l("Die Moderation hat einen Beitrag von Ihnen ausgeblendet"))
describe_action(
    "participation.contribution_restored", _l("Die Moderation hat einen Beitrag von Ihnen wieder eingeblendet")
)
describe_action("participation.contribution_published", _l("Die Moderation hat einen Beitrag von Ihnen freigegeben"))
describe_action("participation.appeal_filed", _l("Sie haben Einspruch gegen eine Moderationsentscheidung eingelegt"))
describe_action("participation.appeal_decided", _l("Die Moderation hat über Ihren Einspruch entschieden"))
describe_action("participation.user_blocked", _l("Die Moderation hat Ihr Konto für die Beteiligung gesperrt"))
describe_action("participation.block_lifted", _l("Die Moderation hat die Sperre Ihres Kontos aufgehoben"))

# Results (participation.services.answers, detach, participation.gdpr). An answer or progress note names the
# proposal's author as its subject, so it appears in their log; the department is shown to them by name.
_ANSWERED = ["consultation", "proposal", "status", "department_id"]
declare(
    "participation.answered", _ANSWERED, "The city answered a proposal officially (accepted, under review, rejected)"
)
declare(
    "participation.progress_noted", _ANSWERED, "The city noted how far the implementation of an accepted proposal got"
)
declare(
    "participation.authors_detached",
    ["slug", "days", "proposals", "comments", "supports", "survey_responses", "flags", "appeals"],
    "Data minimisation: a consultation's contributions were detached from the accounts that wrote them",
)

describe_action("participation.answered", _l("Die Verwaltung hat Ihren Vorschlag offiziell beantwortet"))
describe_action(
    "participation.progress_noted", _l("Die Verwaltung hat den Umsetzungsstand Ihres Vorschlags aktualisiert")
)

# Surveys and draft texts (participation.services.surveys, drafts). Answering names the participant as its subject
# but never carries the answers: the trail is kept for good, the answers may be detached from the account later.
declare(
    "participation.survey_changed",
    ["slug", "question", "change"],
    "A question of a consultation's survey was added, changed, moved or removed (before the survey began)",
)
declare("participation.survey_answered", ["consultation", "questions"], "A participant answered a survey")
declare(
    "participation.draft_saved",
    ["slug", "paragraphs"],
    "The draft text put up for comment paragraph by paragraph was saved (before commenting it began)",
)

describe_action("participation.survey_answered", _l("Sie haben an einer Umfrage teilgenommen"))

# Council read access and identity look-ups (participation.services.readers, moderation_identity). The reader is
# the subject of their grant; the participant is the subject of a look-up of the account behind their pseudonym,
# which carries its reason as the purpose their log shows.
declare(
    "participation.reader_granted",
    ["consultation", "department_id"],
    "A consultation manager let an account read a consultation's figures before it closes",
)
declare("participation.reader_revoked", ["consultation", "department_id"], "A reader's access to the figures ended")
declare(
    "participation.identity_revealed",
    [*_MODERATED, "case", "reason", "department_id"],
    "A moderator looked up the account (name, email) behind a participant's pseudonym for a moderation case",
)

describe_action(
    "participation.reader_granted", _l("Sie können die Kennzahlen eines Beteiligungsverfahrens vorab einsehen")
)
describe_action(
    "participation.reader_revoked", _l("Ihr Zugang zu den Kennzahlen eines Beteiligungsverfahrens wurde beendet")
)
describe_action(
    "participation.identity_revealed",
    _l("Die Moderation hat für einen Moderationsfall nachgesehen, wer hinter Ihrem Namen in der Beteiligung steht"),
)
