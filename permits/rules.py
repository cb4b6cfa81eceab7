"""Who may move a permit case from which state to which: the one place for the case's transitions.

    draft ──► submitted ──► formal_check ──► consultation ──► granted ──► fee_notice ──► paid ──► active
                  │             │  ▲  │            │              │                              │   ▲
                  │             ▼  │  │            │              └──(exempt: nothing to pay)───►│   │
                  │      documents_requested       ▼                                             ▼   │
                  │                             refused                        ended / revoked / extended
                  └──► withdrawn (the applicant, any time before a decision)

The applicant submits, withdraws, and answers a request for documents (documents_requested → formal_check). Staff
of the department (`permit_officer`) do the rest. Payments and the calendar move a case too (fee_notice → paid,
paid → active, active → ended); they act as the system.

`refusal(actor, application, new_state)` says why a move is not possible, or None when it is; the services ask it
before every state change, and a form or the API shows its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from permits.models import PermitApplication, PermitState

S = PermitState
OFFICER_ROLE = "permit_officer"  # department role: handles cases, keeps the street list
CATALOGUE_ROLE = "permit_catalogue_admin"  # department role: use types, tariffs, exemption reasons
ADMIN_ROLE = "platform_admin"

APPLICANT = "applicant"
OFFICER = "officer"
SYSTEM = "system"

# new state ← old state: who may make the move.
TRANSITIONS: dict[PermitState, dict[PermitState, frozenset[str]]] = {
    S.DRAFT: {S.SUBMITTED: frozenset({APPLICANT})},
    S.SUBMITTED: {S.FORMAL_CHECK: frozenset({OFFICER}), S.WITHDRAWN: frozenset({APPLICANT})},
    S.FORMAL_CHECK: {
        S.DOCUMENTS_REQUESTED: frozenset({OFFICER}),
        S.CONSULTATION: frozenset({OFFICER}),
        S.GRANTED: frozenset({OFFICER}),
        S.REFUSED: frozenset({OFFICER}),
        S.WITHDRAWN: frozenset({APPLICANT}),
    },
    S.DOCUMENTS_REQUESTED: {
        S.FORMAL_CHECK: frozenset({APPLICANT, OFFICER}),  # the applicant answered (or the clerk takes it back)
        S.REFUSED: frozenset({OFFICER}),  # no answer within the period set
        S.WITHDRAWN: frozenset({APPLICANT}),
    },
    S.CONSULTATION: {
        S.DOCUMENTS_REQUESTED: frozenset({OFFICER}),
        S.GRANTED: frozenset({OFFICER}),
        S.REFUSED: frozenset({OFFICER}),
        S.WITHDRAWN: frozenset({APPLICANT}),
    },
    S.GRANTED: {S.FEE_NOTICE: frozenset({OFFICER, SYSTEM}), S.ACTIVE: frozenset({OFFICER, SYSTEM})},
    S.FEE_NOTICE: {S.PAID: frozenset({SYSTEM, OFFICER}), S.REVOKED: frozenset({OFFICER})},
    S.PAID: {S.ACTIVE: frozenset({SYSTEM, OFFICER}), S.REVOKED: frozenset({OFFICER})},
    S.ACTIVE: {
        S.EXTENDED: frozenset({OFFICER}),
        S.ENDED: frozenset({SYSTEM, OFFICER}),
        S.REVOKED: frozenset({OFFICER}),
    },
    S.EXTENDED: {
        S.EXTENDED: frozenset({OFFICER}),
        S.ENDED: frozenset({SYSTEM, OFFICER}),
        S.REVOKED: frozenset({OFFICER}),
    },
    S.REFUSED: {},
    S.ENDED: {},
    S.REVOKED: {},
    S.WITHDRAWN: {},
}

# A decision has been taken from here on (for "before a decision" and processing times).
DECIDED = frozenset({S.GRANTED, S.REFUSED, S.FEE_NOTICE, S.PAID, S.ACTIVE, S.EXTENDED, S.ENDED, S.REVOKED})
IN_FORCE = frozenset({S.ACTIVE, S.EXTENDED})
FINAL = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
# The applicant may still change the form's data only in a draft.
EDITABLE = frozenset({S.DRAFT})


@dataclass(frozen=True)
class Refusal:
    """Why a move is not possible: a stable `code` for programs, a German `message` (lazy) for people."""

    code: str
    message: Any

    def __str__(self) -> str:
        return str(self.message)


def may_move(current: str, new: str) -> bool:
    """Whether any actor may ever move a case from `current` to `new`."""
    return PermitState(new) in TRANSITIONS[PermitState(current)]


def is_owner(actor: Any, application: PermitApplication) -> bool:
    """The applicant: the person who applied, or a member acting for the business the case belongs to."""
    if actor.user is None:
        return False
    if application.organisation_id is not None:
        return actor.organisation_id == application.organisation_id
    return application.user_id == actor.user.id


def is_officer(actor: Any, application: PermitApplication) -> bool:
    if actor.has_role(ADMIN_ROLE):
        return True
    if application.department_id is None:
        return actor.has_role(OFFICER_ROLE)
    return actor.has_role(OFFICER_ROLE, application.department_id)


def roles_of(actor: Any, application: PermitApplication) -> set[str]:
    found = set()
    if actor.kind == "system":
        found.add(SYSTEM)
    if is_owner(actor, application):
        found.add(APPLICANT)
    if is_officer(actor, application):
        found.add(OFFICER)
    return found


def refusal(actor: Any, application: PermitApplication, new: str) -> Refusal | None:
    """Why `actor` may not move `application` to `new` now; None when they may."""
    try:
        target = PermitState(new)
    except ValueError:
        return Refusal("unknown_state", _l("Diesen Bearbeitungsstand gibt es nicht."))
    allowed = TRANSITIONS[PermitState(application.state)].get(target)
    if allowed is None:
        return Refusal(
            "transition_refused",
            _l("Aus dem Stand „%(old)s“ kann der Antrag nicht in „%(new)s“ wechseln.", old=application.state, new=new),
        )
    if not allowed & roles_of(actor, application):
        return Refusal("not_allowed", _l("Diesen Schritt dürfen Sie bei diesem Antrag nicht gehen."))
    return None
