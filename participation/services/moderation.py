"""Moderation: flagging a contribution, and the decisions on it (hide, restore, publish, dismiss the flags).

Who moderates: people with the global `moderator` role, and a consultation's own managers (its department's
consultation managers, or a platform admin) for that consultation only; nobody decides about their own
contribution. A case (participation.models_moderation.ModerationCase) is opened by the first flag on a
published contribution (later flags join it) or by a pre-moderated contribution when it is written; deciding
closes it. An action without an open case (restoring a hidden contribution, hiding one nobody flagged) is
recorded as a case decided at once, so every contribution's history is one list of cases.

Hiding keeps the text in the database; its author sees the reason (services.moderation_people.author_notice)
and may appeal once. Counters count published contributions only: every change of state adjusts them in the
same transaction (`_set_state`), which locks the consultation first, then touches the rows below it, and
writes its audit event last (the order of participation.services.common.load_consultation).

Queues, case pages and figures: participation.services.moderation_queue; blocks and appeals:
participation.services.moderation_people.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden, NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ActionRefused, ParticipationError
from participation.models import Comment, Consultation, ContributionState, Proposal
from participation.models_moderation import (
    REASON_TEXT_MAX,
    CaseCause,
    CaseState,
    ContributionKind,
    Decision,
    Flag,
    FlagState,
    ModerationCase,
)
from participation.models_surveys import DraftParagraph
from participation.services.common import bump, load_consultation, visible_consultation
from participation.text import plain_text
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

MODERATOR_ROLE = "moderator"
Contribution = Proposal | Comment

# Why a contribution is flagged or hidden; the label is what the reporter picks and what the author reads.
REASONS: dict[str, Any] = {
    "spam": _l("Werbung oder Spam"),
    "abuse": _l("Beleidigung oder Belästigung"),
    "hate": _l("Hass, Hetze oder Diskriminierung"),
    "privacy": _l("Persönliche Daten anderer Menschen"),
    "illegal": _l("Rechtswidriger Inhalt"),
    "off_topic": _l("Gehört nicht zum Thema des Verfahrens"),
    "other": _l("Anderer Grund"),
}
KIND_LABELS: dict[str, Any] = {ContributionKind.PROPOSAL: _l("Vorschlag"), ContributionKind.COMMENT: _l("Kommentar")}


def moderation_hours() -> int:
    return int(current_app.config.get("PARTICIPATION_MODERATION_HOURS", 24))


def deadline_from(start: datetime) -> datetime:
    return start + timedelta(hours=moderation_hours())


def is_moderator(actor: Actor) -> bool:
    """A person (not an API client) with the global moderator role."""
    return actor.user is not None and actor.token is None and actor.has_role(MODERATOR_ROLE)


def can_moderate(actor: Actor, consultation: Consultation) -> bool:
    return is_moderator(actor) or rules.is_manager(actor, consultation.department_id)


def moderated_departments(actor: Actor) -> set[int] | None:
    """The departments whose consultations the actor moderates: None for all (moderators, platform admins);
    Forbidden for anyone who moderates nothing."""
    if actor.user is None or actor.token is not None:
        raise Forbidden()
    if is_moderator(actor) or actor.has_role(rules.ADMIN_ROLE):
        return None
    departments = {m.department_id for m in actor.user.memberships if m.role == rules.MANAGER_ROLE}
    if not departments:
        raise Forbidden()
    return departments


def kind_of(contribution: Contribution) -> str:
    return ContributionKind.PROPOSAL.value if isinstance(contribution, Proposal) else ContributionKind.COMMENT.value


def label_of(contribution: Contribution) -> str | int:
    """How the audit trail names a contribution: a proposal's reference, a comment's number."""
    return contribution.reference if isinstance(contribution, Proposal) else contribution.id


def load_contribution(kind: str, contribution_id: int, *, refresh: bool = False) -> Contribution:
    row: Contribution | None = None
    if kind == ContributionKind.PROPOSAL:
        row = db.session.get(Proposal, contribution_id, populate_existing=refresh or None)
    elif kind == ContributionKind.COMMENT:
        row = db.session.get(Comment, contribution_id, populate_existing=refresh or None)
    if row is None:
        raise NotFound()
    return row


def contributions_by_key(keys: Any) -> dict[tuple[str, int], Contribution]:
    """Proposals and comments named by (kind, id), in at most two queries."""
    wanted: dict[str, set[int]] = {ContributionKind.PROPOSAL: set(), ContributionKind.COMMENT: set()}
    for kind, contribution_id in keys:
        wanted[kind].add(contribution_id)
    rows: list[Contribution] = []
    if wanted[ContributionKind.PROPOSAL]:
        rows += db.session.scalars(sa.select(Proposal).where(Proposal.id.in_(wanted[ContributionKind.PROPOSAL])))
    if wanted[ContributionKind.COMMENT]:
        rows += db.session.scalars(sa.select(Comment).where(Comment.id.in_(wanted[ContributionKind.COMMENT])))
    return {(kind_of(row), row.id): row for row in rows}


def reason_of(code: Any, text: Any, field: str = "reason", *, text_field: str = "text") -> tuple[str, str]:
    """A reason code from REASONS and its optional explanation (required for "other")."""
    if code not in REASONS:
        raise ParticipationError(field, _l("Wählen Sie einen Grund."), "bad_reason")
    explanation = plain_text(text, text_field, REASON_TEXT_MAX, required=code == "other")
    return code, explanation


def note_of(text: Any, field: str = "text", *, required: bool = False) -> str:
    return plain_text(text, field, REASON_TEXT_MAX, required=required)


def open_case_of(kind: str, contribution_id: int) -> ModerationCase | None:
    return db.session.scalar(
        sa.select(ModerationCase).where(
            ModerationCase.contribution_kind == kind,
            ModerationCase.contribution_id == contribution_id,
            ModerationCase.state == CaseState.OPEN,
        )
    )


def open_case(consultation: Consultation, contribution: Contribution, cause: str) -> ModerationCase:
    """A new open case on the contribution, due in PARTICIPATION_MODERATION_HOURS."""
    db.session.flush()  # the contribution's id
    now = utcnow()
    case = ModerationCase(
        consultation_id=consultation.id,
        contribution_kind=kind_of(contribution),
        contribution_id=contribution.id,
        cause=cause,
        state=CaseState.OPEN.value,
        created_at=now,
        deadline_at=deadline_from(now),
    )
    db.session.add(case)
    return case


def open_pending_case(consultation: Consultation, contribution: Contribution) -> ModerationCase:
    """Called by the use cases that write a pending (pre-moderated) contribution, in their transaction."""
    return open_case(consultation, contribution, CaseCause.PENDING)


def set_state(consultation: Consultation, contribution: Contribution, state: str) -> None:
    """Change a contribution's state and keep the counters (published ones only) right."""
    delta = int(state == ContributionState.PUBLISHED) - int(contribution.state == ContributionState.PUBLISHED)
    contribution.state = state
    if delta == 0:
        return
    if isinstance(contribution, Proposal):
        bump(consultation, "proposal_count", delta)
        return
    if contribution.parent_id is not None:
        parent = db.session.get(Comment, contribution.parent_id)
        assert parent is not None
        bump(parent, "reply_count", delta)
    if contribution.proposal_id is not None:
        proposal = db.session.get(Proposal, contribution.proposal_id)
        assert proposal is not None
        bump(proposal, "comment_count", delta)
    if contribution.paragraph_id is not None:
        paragraph = db.session.get(DraftParagraph, contribution.paragraph_id)
        assert paragraph is not None
        bump(paragraph, "comment_count", delta)
    bump(consultation, "comment_count", delta)


def locked(actor: Actor, kind: str, contribution_id: int) -> tuple[Consultation, Contribution]:
    """Inside a moderator's transaction: the consultation locked, then its contribution as it is now;
    Forbidden unless the actor moderates the consultation, and for their own contribution."""
    consultation_id = load_contribution(kind, contribution_id).consultation_id
    consultation = load_consultation(consultation_id, for_update=True)
    if not can_moderate(actor, consultation):
        raise Forbidden()
    contribution = load_contribution(kind, contribution_id, refresh=True)
    if actor.user is not None and contribution.author_id == actor.user.id:
        raise ParticipationError(
            "decision", _l("Über eigene Beiträge entscheidet eine andere Person."), "own_contribution", 403
        )
    return consultation, contribution


def decide(
    actor: Actor,
    consultation: Consultation,
    contribution: Contribution,
    decision: str,
    *,
    cause: str = CaseCause.STAFF,
    reason_code: str | None = None,
    reason_text: str | None = None,
    started_at: datetime | None = None,
) -> ModerationCase:
    """Close the contribution's open case with `decision` (its flags with it), or record a case decided now
    when none is open (`cause`, begun at `started_at`)."""
    assert actor.user is not None
    now = utcnow()
    case = open_case_of(kind_of(contribution), contribution.id)
    if case is None:
        start = started_at or now
        case = ModerationCase(
            consultation_id=consultation.id,
            contribution_kind=kind_of(contribution),
            contribution_id=contribution.id,
            cause=cause,
            created_at=start,
            deadline_at=deadline_from(start),
        )
        db.session.add(case)
    case.state = CaseState.DECIDED.value
    case.decision = decision
    case.reason_code = reason_code
    case.reason_text = reason_text or None
    case.decided_by_id = actor.user.id
    case.decided_at = now
    db.session.flush()
    db.session.execute(
        sa.update(Flag).where(Flag.case_id == case.id, Flag.state == FlagState.OPEN).values(state=FlagState.DECIDED),
        execution_options={"synchronize_session": False},
    )
    return case


def _audit(
    action: str,
    actor: Actor,
    consultation: Consultation,
    contribution: Contribution,
    *,
    tell_author: bool = True,
    **details: Any,
) -> None:
    """The event, in the author's own log when it changed what others see of their contribution."""
    audit.record(
        action,
        actor,
        target=contribution,
        subject_user_id=contribution.author_id if tell_author else None,
        consultation=consultation.slug,
        kind=kind_of(contribution),
        contribution=label_of(contribution),
        **details,
    )


def _wrong_state(message: Any, code: str = "wrong_state") -> ParticipationError:
    return ParticipationError("decision", message, code, 409)


# --- flagging -------------------------------------------------------------------------------------------------


def _already_flagged() -> ParticipationError:
    return ParticipationError("reason", _l("Sie haben diesen Beitrag schon gemeldet."), "already_flagged", 409)


def flag(actor: Actor, kind: str, contribution_id: int, *, reason: str, text: str = "") -> Flag:
    """A signed-in person reports a published contribution (not their own) once, with a reason; the report
    joins the contribution's open case or opens one, due in PARTICIPATION_MODERATION_HOURS."""
    if actor.user is None:
        raise ActionRefused.of(rules.Refusal("sign_in_required", _l("Bitte melden Sie sich an, um zu melden.")))
    contribution = load_contribution(kind, contribution_id)
    visible_consultation(actor, contribution.consultation_id)
    code, explanation = reason_of(reason, text)
    with transaction():
        consultation = load_consultation(contribution.consultation_id, for_update=True)
        contribution = load_contribution(kind, contribution_id, refresh=True)
        user = actor.user
        if contribution.state != ContributionState.PUBLISHED:
            raise ParticipationError("reason", _l("Dieser Beitrag kann nicht gemeldet werden."), "not_flaggable", 409)
        if contribution.author_id == user.id:
            raise ParticipationError("reason", _l("Eigene Beiträge können Sie nicht melden."), "own_contribution")
        until = rules.blocked_until(user.id)
        if until is not None:
            raise ActionRefused.of(rules.blocked_refusal(until), "reason")
        mine = sa.select(Flag.id).where(
            Flag.contribution_kind == kind, Flag.contribution_id == contribution.id, Flag.reporter_id == user.id
        )
        if db.session.scalar(mine) is not None:
            raise _already_flagged()
        case = open_case_of(kind, contribution.id) or open_case(consultation, contribution, CaseCause.FLAG)
        db.session.flush()
        report = Flag(
            consultation_id=consultation.id,
            case_id=case.id,
            contribution_kind=kind,
            contribution_id=contribution.id,
            reporter_id=user.id,
            reason_code=code,
            reason_text=explanation,
        )
        try:
            db.session.add(report)
            db.session.flush()
        except IntegrityError:
            raise _already_flagged() from None  # a concurrent double click won; ours is rolled back
        audit.record(
            "participation.flagged",
            actor,
            target=report,
            subject_user_id=user.id,
            consultation=consultation.slug,
            kind=kind,
            contribution=label_of(contribution),
            reason=code,
        )
    return report


# --- decisions --------------------------------------------------------------------------------------------------


def hide(actor: Actor, kind: str, contribution_id: int, *, reason: str, text: str = "") -> ModerationCase:
    """Hide a published contribution, or refuse a pending one, with a reason its author reads. The text stays
    in the database; a hidden comment remains in its thread as a placeholder."""
    code, explanation = reason_of(reason, text)
    with transaction():
        consultation, contribution = locked(actor, kind, contribution_id)
        if contribution.state == ContributionState.HIDDEN:
            raise _wrong_state(_l("Dieser Beitrag ist schon ausgeblendet."), "already_hidden")
        before = contribution.state
        case = decide(actor, consultation, contribution, Decision.HIDE, reason_code=code, reason_text=explanation)
        set_state(consultation, contribution, ContributionState.HIDDEN)
        _audit(
            "participation.contribution_hidden",
            actor,
            consultation,
            contribution,
            reason=code,
            was=before,
            cause=case.cause,
        )
    return case


def restore(actor: Actor, kind: str, contribution_id: int, *, text: str = "") -> ModerationCase:
    """Show a hidden contribution again (counters follow). An open appeal against the hiding is granted."""
    from participation.services.moderation_people import close_appeal_on_restore

    note = note_of(text)
    with transaction():
        consultation, contribution = locked(actor, kind, contribution_id)
        if contribution.state != ContributionState.HIDDEN:
            raise _wrong_state(_l("Nur ausgeblendete Beiträge können wiederhergestellt werden."))
        case = decide(actor, consultation, contribution, Decision.RESTORE, reason_text=note)
        set_state(consultation, contribution, ContributionState.PUBLISHED)
        close_appeal_on_restore(actor, contribution, note)
        _audit("participation.contribution_restored", actor, consultation, contribution, cause=case.cause)
    return case


def publish(actor: Actor, kind: str, contribution_id: int) -> ModerationCase:
    """Publish a pending contribution of a pre-moderated consultation (or a guest's comment)."""
    with transaction():
        consultation, contribution = locked(actor, kind, contribution_id)
        if contribution.state != ContributionState.PENDING:
            raise _wrong_state(_l("Dieser Beitrag wartet nicht auf Freigabe."), "not_pending")
        case = decide(actor, consultation, contribution, Decision.PUBLISH, cause=CaseCause.PENDING)
        set_state(consultation, contribution, ContributionState.PUBLISHED)
        _audit("participation.contribution_published", actor, consultation, contribution, cause=case.cause)
    return case


def dismiss(actor: Actor, kind: str, contribution_id: int, *, text: str = "") -> ModerationCase:
    """The flags on a published contribution do not hold: close its case, the contribution stays."""
    note = note_of(text)
    with transaction():
        consultation, contribution = locked(actor, kind, contribution_id)
        case = open_case_of(kind, contribution.id)
        if case is None or case.cause != CaseCause.FLAG or contribution.state != ContributionState.PUBLISHED:
            raise _wrong_state(_l("Zu diesem Beitrag liegen keine offenen Meldungen vor."), "no_flags")
        flags = db.session.scalar(sa.select(sa.func.count(Flag.id)).where(Flag.case_id == case.id)) or 0
        decide(actor, consultation, contribution, Decision.DISMISS, reason_text=note)
        _audit("participation.flags_dismissed", actor, consultation, contribution, tell_author=False, flags=int(flags))
    return case
