"""Participation's part of "Meine Daten" and of deleting an account (the GDPR hooks of portal.gdpr).

Export: the name the person takes part under, their proposals and comments (with their state, hidden ones
included: the text is theirs), the proposals they support, their survey answers, the contributions they
flagged, their appeals and any block of their account.

Erasure (inside the account deletion's transaction): the contributions stay where they are, since they are part
of a public process others answered and commented on, but they are detached from the account (author NULL) and
appear under "Ehemalige Teilnehmende"; the pseudonym is deleted, so the name disappears everywhere at once.
Survey answers stay in the results without the account. Supports are deleted. While their consultation is
still running (published), the counters go down with them, as if the person had withdrawn (otherwise deleting
and re-registering would count one person twice); once it is closed the figures are the result and stay as
they are, as with the detachment after the retention period (participation.services.detach). Flags lose their
reporter and appeals their author; the moderation record and blocks (kept with the now anonymous account id)
stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from participation.models import Comment, Consultation, ConsultationState, Proposal, Pseudonym, Support
from participation.models_moderation import Appeal, Flag, UserBlock
from participation.models_surveys import SurveyAnswer, SurveyOption, SurveyQuestion, SurveyResponse
from participation.services.common import load_consultation
from portal.extensions import db
from portal.gdpr import ErasureOutcome, register_erasure_handler, register_export_section, text, when
from portal.pdf import Block, Heading, KeyValues, Table

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.actors import Actor


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pseudonym(user_id: int) -> Pseudonym | None:
    return db.session.scalar(sa.select(Pseudonym).where(Pseudonym.user_id == user_id))


def collect(user: User) -> dict[str, Any]:
    pseudonym = _pseudonym(user.id)
    proposals = db.session.execute(
        sa.select(Proposal, Consultation.title)
        .join(Consultation, Consultation.id == Proposal.consultation_id)
        .where(Proposal.author_id == user.id)
        .order_by(Proposal.created_at, Proposal.id)
    )
    comments = db.session.execute(
        sa.select(Comment, Consultation.title, Proposal.reference)
        .join(Consultation, Consultation.id == Comment.consultation_id)
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .where(Comment.author_id == user.id)
        .order_by(Comment.created_at, Comment.id)
    )
    supports = db.session.execute(
        sa.select(Support.created_at, Proposal.reference, Proposal.title, Consultation.title.label("consultation"))
        .join(Proposal, Proposal.id == Support.proposal_id)
        .join(Consultation, Consultation.id == Proposal.consultation_id)
        .where(Support.user_id == user.id)
        .order_by(Support.created_at, Support.id)
    )
    flags = db.session.scalars(sa.select(Flag).where(Flag.reporter_id == user.id).order_by(Flag.id))
    appeals = db.session.scalars(sa.select(Appeal).where(Appeal.author_id == user.id).order_by(Appeal.id))
    blocks = db.session.scalars(sa.select(UserBlock).where(UserBlock.user_id == user.id).order_by(UserBlock.id))
    return {
        "survey_responses": _survey_responses(user.id),
        "pseudonym": {"name": pseudonym.name, "chosen_at": _iso(pseudonym.created_at)} if pseudonym else None,
        "proposals": [
            {
                "reference": p.reference,
                "consultation": consultation,
                "title": p.title,
                "body": p.body,
                "category": p.category,
                "address": p.address,
                "lat": p.lat,
                "lon": p.lon,
                "state": p.state,
                "support_count": p.support_count,
                "answer_status": p.answer_status,
                "created_at": _iso(p.created_at),
            }
            for p, consultation in proposals
        ],
        "comments": [
            {
                "id": c.id,
                "consultation": consultation,
                "proposal": reference,
                "parent_id": c.parent_id,
                "body": c.body,
                "stance": c.stance,
                "state": c.state,
                "created_at": _iso(c.created_at),
                "edited_at": _iso(c.edited_at),
            }
            for c, consultation, reference in comments
        ],
        "supports": [
            {
                "proposal": row.reference,
                "title": row.title,
                "consultation": row.consultation,
                "created_at": _iso(row.created_at),
            }
            for row in supports
        ],
        "flags": [
            {
                "kind": f.contribution_kind,
                "contribution_id": f.contribution_id,
                "reason": f.reason_code,
                "text": f.reason_text,
                "created_at": _iso(f.created_at),
            }
            for f in flags
        ],
        "appeals": [
            {
                "kind": a.contribution_kind,
                "contribution_id": a.contribution_id,
                "text": a.text,
                "state": a.state,
                "created_at": _iso(a.created_at),
                "decision_note": a.decision_note,
            }
            for a in appeals
        ],
        "blocks": [
            {"reason": b.reason, "from": _iso(b.created_at), "until": _iso(b.until), "lifted_at": _iso(b.lifted_at)}
            for b in blocks
        ],
    }


def _survey_responses(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(
            SurveyResponse.id,
            SurveyResponse.created_at,
            Consultation.title.label("consultation"),
            SurveyQuestion.text.label("question"),
            SurveyOption.label.label("option"),
            SurveyAnswer.value,
            SurveyAnswer.text,
        )
        .join(Consultation, Consultation.id == SurveyResponse.consultation_id)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(SurveyOption, SurveyOption.id == SurveyAnswer.option_id)
        .where(SurveyResponse.user_id == user_id)
        .order_by(SurveyResponse.id, SurveyQuestion.position, SurveyQuestion.id, SurveyAnswer.id)
    )
    responses: dict[int, dict[str, Any]] = {}
    for row in rows:
        response = responses.setdefault(
            row.id, {"consultation": row.consultation, "answered_at": _iso(row.created_at), "answers": []}
        )
        answer = row.option if row.option is not None else row.value if row.value is not None else row.text
        response["answers"].append({"question": row.question, "answer": answer})
    return list(responses.values())


def summary(data: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    pseudonym = data.get("pseudonym")
    blocks.append(
        KeyValues(
            [
                (_("Ihr Name in der Beteiligung"), pseudonym["name"] if pseudonym else "–"),
                (_("Gewählt am"), when(pseudonym["chosen_at"]) if pseudonym else "–"),
            ]
        )
    )
    if data.get("proposals"):
        blocks.append(Heading(_("Ihre Vorschläge"), level=3))
        blocks.append(
            Table(
                [_("Vorschlag"), _("Verfahren"), _("Titel"), _("Unterstützungen"), _("Eingereicht am")],
                [
                    [p["reference"], p["consultation"], p["title"], str(p["support_count"]), when(p["created_at"])]
                    for p in data["proposals"]
                ],
                widths=[2, 3, 3, 1.5, 2],
            )
        )
    if data.get("comments"):
        blocks.append(Heading(_("Ihre Kommentare"), level=3))
        blocks.append(
            Table(
                [_("Verfahren"), _("Zu Vorschlag"), _("Text"), _("Geschrieben am")],
                [[c["consultation"], text(c["proposal"]), c["body"], when(c["created_at"])] for c in data["comments"]],
                widths=[3, 2, 5, 2],
            )
        )
    if data.get("supports"):
        blocks.append(Heading(_("Von Ihnen unterstützte Vorschläge"), level=3))
        blocks.append(
            Table(
                [_("Vorschlag"), _("Titel"), _("Verfahren"), _("Unterstützt am")],
                [[s["proposal"], s["title"], s["consultation"], when(s["created_at"])] for s in data["supports"]],
            )
        )
    for response in data.get("survey_responses") or []:
        blocks.append(Heading(_("Ihre Antworten in der Umfrage: %(title)s", title=response["consultation"]), level=3))
        blocks.append(
            Table(
                [_("Frage"), _("Ihre Antwort")],
                [[a["question"], text(a["answer"])] for a in response["answers"]],
                widths=[1, 1],
            )
        )
    moderation = [
        (_("Ihre Meldungen an die Moderation"), len(data.get("flags") or [])),
        (_("Ihre Einsprüche"), len(data.get("appeals") or [])),
        (_("Sperren Ihres Kontos"), len(data.get("blocks") or [])),
    ]
    if any(n for _label, n in moderation):
        blocks.append(Heading(_("Moderation"), level=3))
        blocks.append(KeyValues([(label, str(n)) for label, n in moderation]))
    return blocks


def _counts(user_id: int) -> dict[str, int]:
    def count(column: Any, *where: Any) -> int:
        return int(db.session.scalar(sa.select(sa.func.count(column)).where(*where)) or 0)

    return {
        "proposals": count(Proposal.id, Proposal.author_id == user_id),
        "comments": count(Comment.id, Comment.author_id == user_id),
        "supports": count(Support.id, Support.user_id == user_id),
    }


def preview(user: User) -> list[str]:
    lines: list[str] = []
    counts = _counts(user.id)
    contributions = counts["proposals"] + counts["comments"]
    if contributions:
        lines.append(
            ngettext(
                "Ihr Beitrag in der Bürgerbeteiligung bleibt öffentlich, aber ohne Verbindung zu Ihrem Konto: Er "
                "erscheint unter „Ehemalige Teilnehmende“.",
                "Ihre %(num)d Beiträge in der Bürgerbeteiligung bleiben öffentlich, aber ohne Verbindung zu Ihrem "
                "Konto: Sie erscheinen unter „Ehemalige Teilnehmende“.",
                contributions,
            )
        )
    if counts["supports"]:
        lines.append(
            ngettext(
                "Ihre Unterstützung eines Vorschlags wird gelöscht; in laufenden Verfahren zählt sie nicht mehr, in "
                "abgeschlossenen bleibt das Ergebnis, wie es ist.",
                "Ihre %(num)d Unterstützungen von Vorschlägen werden gelöscht; in laufenden Verfahren zählen sie "
                "nicht mehr, in abgeschlossenen bleibt das Ergebnis, wie es ist.",
                counts["supports"],
            )
        )
    pseudonym = _pseudonym(user.id)
    if pseudonym is not None:
        lines.append(_("Ihr Name in der Beteiligung („%(name)s“) wird gelöscht.", name=pseudonym.name))
    return lines


def _remove_supports(user_id: int) -> tuple[int, int]:
    """Delete the person's supports; those in running consultations also leave the counters (consultation rows
    locked first, in id order, as every writing use case does). Returns (deleted, uncounted)."""
    rows = db.session.execute(
        sa.select(Support.proposal_id, Proposal.consultation_id, Consultation.state)
        .join(Proposal, Proposal.id == Support.proposal_id)
        .join(Consultation, Consultation.id == Proposal.consultation_id)
        .where(Support.user_id == user_id)
    ).all()
    running: dict[int, list[int]] = {}
    for row in rows:
        if row.state == ConsultationState.PUBLISHED:
            running.setdefault(row.consultation_id, []).append(row.proposal_id)
    uncounted = 0
    for consultation_id in sorted(running):
        consultation = load_consultation(consultation_id, for_update=True)
        if consultation.state != ConsultationState.PUBLISHED:
            continue  # closed in the meantime: its figures are final now
        proposal_ids = running[consultation_id]
        db.session.execute(
            sa.update(Proposal)
            .where(Proposal.id.in_(proposal_ids))
            .values(support_count=Proposal.support_count - 1)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            sa.update(Consultation)
            .where(Consultation.id == consultation_id)
            .values(support_count=Consultation.support_count - len(proposal_ids))
            .execution_options(synchronize_session=False)
        )
        uncounted += len(proposal_ids)
    deleted = db.session.execute(sa.delete(Support).where(Support.user_id == user_id)).rowcount  # type: ignore[attr-defined]
    return int(deleted or 0), uncounted


def _update(model: Any, column: Any, person: int, **values: Any) -> int:
    result = db.session.execute(
        sa.update(model).where(column == person).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def erase(actor: Actor, user: User) -> ErasureOutcome:
    """Detach the person's contributions, delete their pseudonym and supports; in the deletion's transaction."""
    supports, uncounted = _remove_supports(user.id)
    # The image of a proposal is the person's upload: the files' own erasure handler deletes it.
    proposals = _update(Proposal, Proposal.author_id, user.id, author_id=None, image_key=None, image_alt=None)
    comments = _update(Comment, Comment.author_id, user.id, author_id=None)
    flags = _update(Flag, Flag.reporter_id, user.id, reporter_id=None)
    appeals = _update(Appeal, Appeal.author_id, user.id, author_id=None)
    surveys = _update(SurveyResponse, SurveyResponse.user_id, user.id, user_id=None)
    pseudonym = db.session.execute(sa.delete(Pseudonym).where(Pseudonym.user_id == user.id)).rowcount  # type: ignore[attr-defined]
    details = {
        "proposals": proposals,
        "comments": comments,
        "supports": supports,
        "supports_uncounted": uncounted,
        "survey_responses": surveys,
        "flags": flags,
        "appeals": appeals,
        "pseudonym": bool(pseudonym),
    }
    if not any(details.values()):
        return ErasureOutcome()
    parts = []
    if proposals + comments + surveys:
        parts.append(
            ngettext(
                "%(num)d Beitrag ist von Ihrem Konto gelöst",
                "%(num)d Beiträge sind von Ihrem Konto gelöst",
                proposals + comments + surveys,
            )
        )
    if supports:
        parts.append(ngettext("%(num)d Unterstützung gelöscht", "%(num)d Unterstützungen gelöscht", supports))
    if pseudonym:
        parts.append(_("Ihr Name in der Beteiligung ist gelöscht"))
    description = _("Beteiligung: %(what)s.", what="; ".join(parts)) if parts else ""
    return ErasureOutcome(description=description, details=details)


def register(app: Flask) -> None:
    register_export_section(app, "participation", _l("Bürgerbeteiligung"), collect, summary)
    register_erasure_handler(app, "participation", erase, preview)
