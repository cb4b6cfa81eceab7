"""Who may do what, when: the one place for participation's rules (the adhocracy+ pattern).

A phase opens a set of actions (`PHASE_ACTIONS` gives each kind its default); the phase in force is the one
whose [starts_at, ends_at) holds now. `refusal(actor, consultation, action)` answers why an action is not
possible right now, or None when it is. Every service function that lets a participant act asks it first; a
form shows the message next to the action, the API returns it as the problem's detail.

The checks, in order: the consultation is published (not_published) and not over (closed); the action is open
in the phase in force (phase_closed, saying when it opens or when it closed); the actor may take part
(sign_in_required, guests_comment_only, blocked: a moderator's block, verified_required).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from types import EllipsisType
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from participation.models import Audience, Consultation, ConsultationState, Phase, PhaseKind
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow

MANAGER_ROLE = "consultation_manager"
ADMIN_ROLE = "platform_admin"

PROPOSE = "propose"
COMMENT = "comment"
SUPPORT = "support"
COMMENT_DRAFT = "comment_draft"
ANSWER_SURVEY = "answer_survey"
VOTE = "vote"
ACTIONS = (PROPOSE, COMMENT, SUPPORT, COMMENT_DRAFT, ANSWER_SURVEY, VOTE)

# What each kind of phase opens unless a manager chose otherwise for a phase.
PHASE_ACTIONS: dict[str, tuple[str, ...]] = {
    PhaseKind.INFORMATION: (),
    PhaseKind.PROPOSALS: (PROPOSE, COMMENT, SUPPORT),
    PhaseKind.COMMENTS: (COMMENT, SUPPORT),
    PhaseKind.DRAFT: (COMMENT_DRAFT,),
    PhaseKind.SURVEY: (ANSWER_SURVEY,),
    PhaseKind.VOTING: (VOTE,),
    PhaseKind.RESULTS: (),
}

ACTION_LABELS: dict[str, Any] = {
    PROPOSE: _l("Vorschläge einreichen"),
    COMMENT: _l("Kommentieren"),
    SUPPORT: _l("Vorschläge unterstützen"),
    COMMENT_DRAFT: _l("Den Entwurf kommentieren"),
    ANSWER_SURVEY: _l("An der Umfrage teilnehmen"),
    VOTE: _l("Abstimmen"),
}

# Words in an OpenID Connect assurance level ("acr") that mean the identity was checked at least
# "substantiell" (BundID: STORK-QAA-Level-3 / -4, eIDAS substantial / high).
VERIFIED_LEVEL_WORDS = ("substantiell", "substantial", "hoch", "high", "level-3", "level-4")


@dataclass(frozen=True)
class Refusal:
    """Why an action is not possible: a stable `code` for programs, a German `message` (lazy) for people."""

    code: str
    message: Any

    def __str__(self) -> str:
        return str(self.message)


def default_actions(kind: str) -> list[str]:
    return list(PHASE_ACTIONS.get(kind, ()))


def phase_in_force(consultation: Consultation, now: datetime | None = None) -> Phase | None:
    """The phase whose [starts_at, ends_at) holds `now`, if any (phases never overlap)."""
    now = now or utcnow()
    return next((p for p in consultation.phases if p.starts_at <= now < p.ends_at), None)


def open_actions(consultation: Consultation, now: datetime | None = None) -> frozenset[str]:
    """The actions the phase in force opens, whoever asks (nothing unless published)."""
    if consultation.state != ConsultationState.PUBLISHED:
        return frozenset()
    phase = phase_in_force(consultation, now)
    return frozenset(phase.actions) if phase is not None else frozenset()


def is_manager(actor: Actor, department_id: int) -> bool:
    """A person (not an API client) managing the department's consultations, or a platform admin."""
    if actor.user is None or actor.token is not None:
        return False
    return actor.has_role(MANAGER_ROLE, department_id) or actor.has_role(ADMIN_ROLE)


def is_verified(user: Any) -> bool:
    """The account's external sign-in (BundID via OIDC) asserted a substantial or high assurance level."""
    from portal.accounts.models import OidcIdentity

    levels = db.session.scalars(sa.select(OidcIdentity.assurance_level).where(OidcIdentity.user_id == user.id))
    return any(level and any(word in level.lower() for word in VERIFIED_LEVEL_WORDS) for level in levels)


def blocked_until(user_id: int, now: datetime | None = None) -> datetime | None:
    """When the person's block (participation.models_moderation.UserBlock) ends, if one holds `now`."""
    from participation.models_moderation import UserBlock

    return db.session.scalar(
        sa.select(sa.func.max(UserBlock.until)).where(
            UserBlock.user_id == user_id, UserBlock.lifted_at.is_(None), UserBlock.until > (now or utcnow())
        )
    )


def blocked_refusal(until: datetime) -> Refusal:
    return Refusal(
        "blocked",
        _l(
            "Die Moderation hat Ihr Konto bis zum %(when)s für die Mitwirkung an Beteiligungsverfahren gesperrt.",
            when=_when(until),
        ),
    )


def _when(value: datetime) -> str:
    return to_berlin(value).strftime("%d.%m.%Y, %H:%M Uhr")


def _phase_refusal(consultation: Consultation, action: str, now: datetime) -> Refusal:
    label = ACTION_LABELS.get(action, action)
    allowing = [p for p in consultation.phases if action in p.actions]
    upcoming = [p for p in allowing if p.starts_at > now]
    if upcoming:
        starts = min(p.starts_at for p in upcoming)
        return Refusal("phase_closed", _l("%(action)s ist ab dem %(when)s möglich.", action=label, when=_when(starts)))
    if allowing:
        ended = max(p.ends_at for p in allowing)
        return Refusal("phase_closed", _l("%(action)s war bis zum %(when)s möglich.", action=label, when=_when(ended)))
    return Refusal("phase_closed", _l("%(action)s ist in diesem Beteiligungsverfahren nicht vorgesehen.", action=label))


def refusal(actor: Actor, consultation: Consultation, action: str, now: datetime | None = None) -> Refusal | None:
    """Why `actor` may not do `action` in `consultation` at `now`, or None when they may."""
    return refusals(actor, consultation, (action,), now)[action]


def refusals(
    actor: Actor,
    consultation: Consultation,
    actions: Iterable[str],
    now: datetime | None = None,
    *,
    block_ends: datetime | EllipsisType | None = ...,
) -> dict[str, Refusal | None]:
    """`refusal` for several actions at once, as a page asks: the person's block and verification are read once,
    not once per action (each is a query). `block_ends`: the block as the caller read it already (`blocked_until`)."""
    now = now or utcnow()
    person = _Person(actor, now)
    if block_ends is not ...:
        person.__dict__["block_ends"] = block_ends  # where the cached_property keeps it
    return {action: _refusal(person, consultation, action, now) for action in actions}


class _Person:
    """The acting person's block and verification, each read from the database when first needed, then kept."""

    def __init__(self, actor: Actor, now: datetime) -> None:
        self.user = actor.user
        self.now = now

    @cached_property
    def block_ends(self) -> datetime | None:
        assert self.user is not None
        return blocked_until(self.user.id, self.now)

    @cached_property
    def verified(self) -> bool:
        return is_verified(self.user)


def _refusal(person: _Person, consultation: Consultation, action: str, now: datetime) -> Refusal | None:
    if action not in ACTIONS:
        raise ValueError(f"unknown participation action {action!r}")
    if consultation.state == ConsultationState.DRAFT:
        return Refusal("not_published", _l("Dieses Beteiligungsverfahren ist noch nicht veröffentlicht."))
    if consultation.state != ConsultationState.PUBLISHED:
        return Refusal("closed", _l("Dieses Beteiligungsverfahren ist abgeschlossen."))
    phase = phase_in_force(consultation, now)
    if phase is None or action not in phase.actions:
        return _phase_refusal(consultation, action, now)
    if person.user is None:
        if consultation.audience == Audience.GUESTS:
            if action == COMMENT:
                return None
            return Refusal(
                "guests_comment_only",
                _l("Ohne Anmeldung können Sie nur kommentieren. Melden Sie sich an, um mehr zu tun."),
            )
        return Refusal("sign_in_required", _l("Bitte melden Sie sich an, um mitzumachen."))
    until = person.block_ends
    if until is not None:
        return blocked_refusal(until)
    if consultation.audience == Audience.VERIFIED and not person.verified:
        return Refusal(
            "verified_required",
            _l(
                "An diesem Verfahren können nur nachweislich Einwohnerinnen und Einwohner teilnehmen. "
                "Melden Sie sich dafür mit der BundID an."
            ),
        )
    return None
