"""Moderation and the people it concerns: what an author is told and their one appeal; blocking a participant.

The author of a hidden contribution reads the reason (`author_notice`) and may appeal once (`appeal`); someone
who moderates the consultation, other than the person who hid it, decides the appeal (`decide_appeal`): granted,
the contribution is shown again; rejected, it stays hidden. Either way the author reads the note.

Blocks are platform-wide and for moderators (and platform admins) only, since a block reaches beyond one
department's consultations: while one holds, participation.rules.refusal answers "blocked" for every action
and flagging is refused too. Appealing stays possible. Staff identify the person by a contribution of theirs and
see only the pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden, NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import Consultation, ContributionState
from participation.models_moderation import (
    APPEAL_TEXT_MAX,
    Appeal,
    AppealState,
    CaseCause,
    Decision,
    ModerationCase,
    UserBlock,
)
from participation.services.common import load_consultation, pseudonym_names, shown_name
from participation.services.moderation import (
    Contribution,
    can_moderate,
    contributions_by_key,
    deadline_from,
    decide,
    is_moderator,
    kind_of,
    label_of,
    load_contribution,
    locked,
    moderated_departments,
    note_of,
    set_state,
)
from participation.text import plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

BLOCK_DAYS_MAX = 365


# --- the author -------------------------------------------------------------------------------------------------


@dataclass
class AuthorNotice:
    """What the author of a contribution learns about its moderation."""

    contribution: Contribution
    consultation: Consultation
    kind: str
    hiding: ModerationCase | None  # the decision that hid it, while it is hidden
    appeal: Appeal | None
    can_appeal: bool


def _last_hiding(kind: str, contribution_id: int) -> ModerationCase | None:
    return db.session.scalar(
        sa.select(ModerationCase)
        .where(
            ModerationCase.contribution_kind == kind,
            ModerationCase.contribution_id == contribution_id,
            ModerationCase.decision == Decision.HIDE,
        )
        .order_by(ModerationCase.decided_at.desc(), ModerationCase.id.desc())
        .limit(1)
    )


def _appeal_of(kind: str, contribution_id: int) -> Appeal | None:
    return db.session.scalar(
        sa.select(Appeal).where(Appeal.contribution_kind == kind, Appeal.contribution_id == contribution_id)
    )


def _own(actor: Actor, kind: str, contribution_id: int) -> Contribution:
    contribution = load_contribution(kind, contribution_id)
    if actor.user is None or contribution.author_id != actor.user.id:
        raise NotFound()  # nobody learns about others' moderation here, not even that it exists
    return contribution


def author_notice(actor: Actor, kind: str, contribution_id: int) -> AuthorNotice:
    """For the author only (others: 404): whether the contribution is hidden, why, and their appeal."""
    contribution = _own(actor, kind, contribution_id)
    consultation = load_consultation(contribution.consultation_id)
    hidden = contribution.state == ContributionState.HIDDEN
    hiding = _last_hiding(kind, contribution.id) if hidden else None
    appeal = _appeal_of(kind, contribution.id)
    return AuthorNotice(contribution, consultation, kind, hiding, appeal, hidden and hiding is not None and not appeal)


def _already_appealed() -> ParticipationError:
    return ParticipationError(
        "text", _l("Sie haben gegen diese Entscheidung schon Einspruch eingelegt."), "already_appealed", 409
    )


def appeal(actor: Actor, kind: str, contribution_id: int, *, text: str) -> Appeal:
    """The author appeals once against hiding their contribution, saying why it should be shown."""
    contribution = _own(actor, kind, contribution_id)
    body = plain_text(text, "text", APPEAL_TEXT_MAX)
    with transaction():
        consultation = load_consultation(contribution.consultation_id, for_update=True)
        contribution = load_contribution(kind, contribution_id, refresh=True)
        hiding = _last_hiding(kind, contribution.id)
        if contribution.state != ContributionState.HIDDEN or hiding is None:
            raise ParticipationError("text", _l("Dieser Beitrag ist nicht ausgeblendet."), "not_hidden", 409)
        if _appeal_of(kind, contribution.id) is not None:
            raise _already_appealed()
        now = utcnow()
        row = Appeal(
            consultation_id=consultation.id,
            case_id=hiding.id,
            contribution_kind=kind,
            contribution_id=contribution.id,
            author_id=contribution.author_id,
            text=body,
            created_at=now,
            deadline_at=deadline_from(now),
        )
        try:
            db.session.add(row)
            db.session.flush()
        except IntegrityError:
            raise _already_appealed() from None
        audit.record(
            "participation.appeal_filed",
            actor,
            target=row,
            subject_user_id=contribution.author_id,
            consultation=consultation.slug,
            kind=kind,
            contribution=label_of(contribution),
        )
    return row


def decide_appeal(actor: Actor, appeal_id: int, *, grant: bool, note: str) -> Appeal:
    """Grant (the contribution is shown again) or reject an open appeal, with a note the author reads; not by
    the person who hid the contribution."""
    row = db.session.get(Appeal, appeal_id)
    if row is None:
        raise NotFound()
    text = note_of(note, "note", required=True)
    with transaction():
        consultation, contribution = locked(actor, row.contribution_kind, row.contribution_id)
        db.session.refresh(row)
        if row.state != AppealState.OPEN:
            raise ParticipationError("note", _l("Über diesen Einspruch ist schon entschieden."), "already_decided", 409)
        hiding = db.session.get(ModerationCase, row.case_id)
        assert actor.user is not None
        if hiding is not None and hiding.decided_by_id == actor.user.id:
            raise ParticipationError(
                "note",
                _l("Über den Einspruch entscheidet eine andere Person als die, die den Beitrag ausgeblendet hat."),
                "own_decision",
                403,
            )
        row.state = (AppealState.GRANTED if grant else AppealState.REJECTED).value
        row.decided_by_id = actor.user.id
        row.decided_at = utcnow()
        row.decision_note = text
        if grant and contribution.state == ContributionState.HIDDEN:
            decide(
                actor,
                consultation,
                contribution,
                Decision.RESTORE,
                cause=CaseCause.APPEAL,
                reason_text=text,
                started_at=row.created_at,
            )
            set_state(consultation, contribution, ContributionState.PUBLISHED)
            audit.record(
                "participation.contribution_restored",
                actor,
                target=contribution,
                subject_user_id=contribution.author_id,
                consultation=consultation.slug,
                kind=row.contribution_kind,
                contribution=label_of(contribution),
                cause=CaseCause.APPEAL.value,
            )
        audit.record(
            "participation.appeal_decided",
            actor,
            target=row,
            subject_user_id=row.author_id,
            consultation=consultation.slug,
            kind=row.contribution_kind,
            contribution=label_of(contribution),
            result=row.state,
        )
    return row


def close_appeal_on_restore(actor: Actor, contribution: Contribution, note: str) -> None:
    """Restoring a hidden contribution answers its open appeal too (inside the restoring transaction)."""
    row = _appeal_of(kind_of(contribution), contribution.id)
    if row is None or row.state != AppealState.OPEN:
        return
    assert actor.user is not None
    row.state = AppealState.GRANTED.value
    row.decided_by_id = actor.user.id
    row.decided_at = utcnow()
    row.decision_note = note or None


@dataclass
class AppealItem:
    appeal: Appeal
    contribution: Contribution
    consultation: Consultation
    author_name: str
    hiding: ModerationCase | None
    overdue: bool


def appeals(actor: Actor, *, open_only: bool = True, limit: int = 100) -> list[AppealItem]:
    """Appeals in the consultations the actor moderates: open ones oldest first, or the latest decided."""
    departments = moderated_departments(actor)
    query = sa.select(Appeal, Consultation).join(Consultation, Consultation.id == Appeal.consultation_id)
    if departments is not None:
        query = query.where(Consultation.department_id.in_(departments))
    if open_only:
        query = query.where(Appeal.state == AppealState.OPEN).order_by(Appeal.created_at, Appeal.id)
    else:
        query = query.where(Appeal.state != AppealState.OPEN).order_by(Appeal.decided_at.desc(), Appeal.id.desc())
    rows = list(db.session.execute(query.limit(limit)))
    return _appeal_items([(row.Appeal, row.Consultation) for row in rows])


def get_appeal(actor: Actor, appeal_id: int) -> AppealItem:
    row = db.session.get(Appeal, appeal_id)
    if row is None:
        raise NotFound()
    consultation = load_consultation(row.consultation_id)
    if not can_moderate(actor, consultation):
        raise Forbidden()
    return _appeal_items([(row, consultation)])[0]


def _appeal_items(rows: list[tuple[Appeal, Consultation]]) -> list[AppealItem]:
    now = utcnow()
    cases = {c.id: c for c in _by_ids(ModerationCase, [a.case_id for a, _ in rows])}
    contributions = contributions_by_key(_key(a) for a, _ in rows)
    names = pseudonym_names(a.author_id for a, _ in rows)
    return [
        AppealItem(
            a,
            contributions[_key(a)],
            consultation,
            shown_name(a.author_id, names),
            cases.get(a.case_id),
            a.state == AppealState.OPEN and a.deadline_at < now,
        )
        for a, consultation in rows
    ]


def _key(row: Appeal) -> tuple[str, int]:
    return row.contribution_kind, row.contribution_id


def _by_ids(model: Any, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    return list(db.session.scalars(sa.select(model).where(model.id.in_(set(ids)))))


# --- blocks -------------------------------------------------------------------------------------------------


def can_block(actor: Actor) -> bool:
    return is_moderator(actor) or (actor.token is None and actor.has_role(rules.ADMIN_ROLE))


def active_block(user_id: int, now: datetime | None = None) -> UserBlock | None:
    return db.session.scalar(
        sa.select(UserBlock)
        .where(UserBlock.user_id == user_id, UserBlock.lifted_at.is_(None), UserBlock.until > (now or utcnow()))
        .order_by(UserBlock.until.desc())
        .limit(1)
    )


def block_author(actor: Actor, kind: str, contribution_id: int, *, days: Any, reason: str) -> UserBlock:
    """Block the author of a contribution from taking part for `days` days (1 to 365), with a reason."""
    if not can_block(actor):
        raise Forbidden()
    contribution = load_contribution(kind, contribution_id)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= BLOCK_DAYS_MAX:
        raise ParticipationError("days", _l("Geben Sie 1 bis %(n)s Tage an.", n=BLOCK_DAYS_MAX), "bad_days")
    text = note_of(reason, "reason", required=True)
    user_id = contribution.author_id
    if user_id is None:
        raise ParticipationError("days", _l("Dieser Beitrag ist keinem Konto zugeordnet."), "no_account", 409)
    if actor.user is not None and user_id == actor.user.id:
        raise ParticipationError("days", _l("Sie können sich nicht selbst sperren."), "own_account", 409)
    with transaction():
        consultation = load_consultation(contribution.consultation_id, for_update=True)
        current = active_block(user_id)
        if current is not None:
            raise ParticipationError(
                "days",
                _l("Diese Person ist schon gesperrt. Heben Sie die Sperre auf, um eine neue zu verhängen."),
                "already_blocked",
                409,
            )
        now = utcnow()
        assert actor.user is not None
        block = UserBlock(
            user_id=user_id,
            reason=text,
            created_at=now,
            until=now + timedelta(days=days),
            created_by_id=actor.user.id,
        )
        db.session.add(block)
        audit.record(
            "participation.user_blocked",
            actor,
            target=block,
            subject_user_id=user_id,
            consultation=consultation.slug,
            kind=kind,
            contribution=label_of(contribution),
            days=days,
            until=block.until.isoformat(),
        )
    return block


def lift_block(actor: Actor, block_id: int) -> UserBlock:
    """End a block before its time."""
    if not can_block(actor):
        raise Forbidden()
    with transaction():
        block = db.session.get(UserBlock, block_id, with_for_update=True, populate_existing=True)
        if block is None:
            raise NotFound()
        if block.lifted_at is not None or block.until <= utcnow():
            raise ParticipationError("block", _l("Diese Sperre gilt nicht mehr."), "not_active", 409)
        assert actor.user is not None
        block.lifted_at = utcnow()
        block.lifted_by_id = actor.user.id
        audit.record("participation.block_lifted", actor, target=block, subject_user_id=block.user_id)
    return block


@dataclass
class BlockItem:
    block: UserBlock
    name: str  # the pseudonym, never the account
    active: bool


def blocks(actor: Actor, *, limit: int = 100) -> list[BlockItem]:
    """Blocks in force (ending soonest first), then the latest ended or lifted ones."""
    if not can_block(actor):
        raise Forbidden()
    now = utcnow()
    holding = sa.and_(UserBlock.lifted_at.is_(None), UserBlock.until > now)
    current = list(db.session.scalars(sa.select(UserBlock).where(holding).order_by(UserBlock.until).limit(limit)))
    ended = list(
        db.session.scalars(
            sa.select(UserBlock).where(sa.not_(holding)).order_by(UserBlock.created_at.desc()).limit(limit)
        )
    )
    names = pseudonym_names(b.user_id for b in current + ended)
    return [BlockItem(b, shown_name(b.user_id, names), b in current) for b in current + ended]
