"""The audited look-up of the account behind a pseudonym, when a moderation case requires it.

Staff see participants under their pseudonyms only (issue 9). When a case needs more (a threat that must be
reported, say), those who moderate the contribution's consultation may look up the account's name and email
address, giving a reason. The look-up needs a moderation case on the contribution (open or decided): it is tied
to a case, not a search through the participants. Every look-up is an audit event with the participant as its
subject and the reason as its purpose, so the person reads in their own log that it happened, why, and by which
office. Nothing else is stored; the page shows the answer once, in the response to the look-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden

import participation.actions  # noqa: F401  (declares participation.identity_revealed)
from participation.errors import ParticipationError
from participation.models_moderation import REASON_TEXT_MAX, CaseState, ModerationCase
from participation.services.common import load_consultation, pseudonym_names, shown_name
from participation.services.moderation import can_moderate, kind_of, label_of, load_contribution
from participation.text import plain_text
from portal.accounts.models import User
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.transaction import transaction


@dataclass(frozen=True)
class Identity:
    """Who is behind a contribution's pseudonym, as one look-up found it."""

    pseudonym: str
    display_name: str
    email: str
    case_id: int
    audit_seq: int


def case_for(kind: str, contribution_id: int) -> ModerationCase | None:
    """The contribution's open case, else its latest decided one."""
    return db.session.scalar(
        sa.select(ModerationCase)
        .where(ModerationCase.contribution_kind == kind, ModerationCase.contribution_id == contribution_id)
        .order_by((ModerationCase.state == CaseState.OPEN).desc(), ModerationCase.id.desc())
        .limit(1)
    )


def reveal_identity(actor: Actor, kind: str, contribution_id: int, *, reason: str) -> Identity:
    """For those who moderate the consultation (others: 403), in a moderation case on the contribution: the name
    and email address of the account that wrote it, with a reason (required). Audited each time."""
    contribution = load_contribution(kind, contribution_id)
    consultation = load_consultation(contribution.consultation_id)
    if not can_moderate(actor, consultation):
        raise Forbidden()
    text = plain_text(reason, "reason", REASON_TEXT_MAX)
    assert actor.user is not None  # can_moderate admits people only
    if contribution.author_id == actor.user.id:
        raise ParticipationError("reason", _l("Das ist Ihr eigener Beitrag."), "own_contribution", 403)
    if contribution.author_id is None:
        raise ParticipationError(
            "reason",
            _l("Dieser Beitrag ist keinem Konto zugeordnet (Gast oder von seinem Konto gelöst)."),
            "no_account",
            409,
        )
    case = case_for(kind_of(contribution), contribution.id)
    if case is None:
        raise ParticipationError(
            "reason",
            _l("Zu diesem Beitrag gibt es keinen Moderationsfall. Nur für einen Fall lässt sich das Konto nachsehen."),
            "no_case",
            409,
        )
    user = db.session.get(User, contribution.author_id)
    assert user is not None  # a foreign key
    with transaction():
        event = audit.record_now(
            "participation.identity_revealed",
            actor,
            target=case,
            subject_user_id=user.id,
            consultation=consultation.slug,
            kind=kind_of(contribution),
            contribution=label_of(contribution),
            case=case.id,
            reason=text,
            purpose=text,  # the well-known key: the participant's log shows why
            department_id=consultation.department_id,
        )
        seq = event.seq
    name = shown_name(user.id, pseudonym_names([user.id]))
    return Identity(name, user.display_name, user.email, case.id, seq)
