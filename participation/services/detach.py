"""Data minimisation: some time after a consultation closed, its contributions are detached from the accounts
that wrote them (issue 9: "author shown as former participant").

`detach_authors()` takes every consultation closed more than PARTICIPATION_DETACH_AFTER_DAYS days ago (default
365) and not yet detached, and in one transaction per consultation:
- proposals and comments lose their author (`author_id` NULL; a guest's name goes too): they appear under
  "Ehemalige Teilnehmende" from then on;
- proposals lose their image, and the image file is deleted (it is still its author's own upload);
- supports are deleted: who supported what is no longer needed, and the counters are columns of their own, so
  the figures of the result stay as they were;
- survey responses lose their account (the answers stay for the results);
- flags lose their reporter and appeals their author; the moderation record itself (case, reason, decision, who
  decided) stays, since it documents what the city did with a contribution. Blocks concern a person, not a
  consultation, and end on their own; they are not touched.
The consultation records when (`authors_detached_at`), and the audit trail one event with the counts.

Runs daily as the job `participation.detach_authors` and as `flask participation detach-authors`; safe to run
twice or late (it reads what is due each time, and re-checks under the consultation's lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

import participation.actions  # noqa: F401  (declares the audit actions)
from participation.models import Comment, Consultation, ConsultationState, Proposal, Support
from participation.models_moderation import Appeal, Flag
from participation.models_surveys import SurveyResponse
from participation.services.common import load_consultation
from portal import files
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.files.models import StoredFile
from portal.timeutil import utcnow
from portal.transaction import transaction

DETACHER = Actor("system", label="participation-detach")
DEFAULT_DAYS = 365


@dataclass
class DetachReport:
    """What one run did: the consultations detached (by slug) and the rows changed across them."""

    consultations: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.consultations:
            return "nothing to detach"
        figures = ", ".join(f"{name} {n}" for name, n in sorted(self.counts.items()))
        return f"{len(self.consultations)} consultation(s) detached ({', '.join(self.consultations)}): {figures}"


def detach_after_days() -> int:
    return int(current_app.config.get("PARTICIPATION_DETACH_AFTER_DAYS", DEFAULT_DAYS))


def _rowcount(statement: Any) -> int:
    result = db.session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def detach_contributions(consultation: Consultation) -> dict[str, Any]:
    """Detach every contribution of the (locked) consultation from accounts; the counts per kind of row."""
    proposal_ids = sa.select(Proposal.id).where(Proposal.consultation_id == consultation.id).scalar_subquery()
    images = _remove_images(consultation)
    counts: dict[str, Any] = {
        "proposals": _rowcount(
            sa.update(Proposal)
            .where(Proposal.consultation_id == consultation.id, Proposal.author_id.is_not(None))
            .values(author_id=None)
        ),
        "comments": _rowcount(
            sa.update(Comment)
            .where(
                Comment.consultation_id == consultation.id,
                sa.or_(Comment.author_id.is_not(None), Comment.guest_name.is_not(None)),
            )
            .values(author_id=None, guest_name=None)
        ),
        # The counters (proposal and consultation support_count) are columns: deleting the rows leaves them.
        "supports": _rowcount(sa.delete(Support).where(Support.proposal_id.in_(proposal_ids))),
        "flags": _rowcount(
            sa.update(Flag)
            .where(Flag.consultation_id == consultation.id, Flag.reporter_id.is_not(None))
            .values(reporter_id=None)
        ),
        "appeals": _rowcount(
            sa.update(Appeal)
            .where(Appeal.consultation_id == consultation.id, Appeal.author_id.is_not(None))
            .values(author_id=None)
        ),
        # The answers stay for the results, without the account that gave them.
        "survey_responses": _rowcount(
            sa.update(SurveyResponse)
            .where(SurveyResponse.consultation_id == consultation.id, SurveyResponse.user_id.is_not(None))
            .values(user_id=None)
        ),
        "images": images,
    }
    return counts


def _remove_images(consultation: Consultation) -> int:
    """Take the proposals' images off and delete them: each is still its author's own file (portal.files), so
    keeping it would keep the tie to the account that detaching removes. Counted per image removed."""
    keys = list(
        db.session.scalars(
            sa.select(Proposal.image_key).where(
                Proposal.consultation_id == consultation.id, Proposal.image_key.is_not(None)
            )
        )
    )
    if not keys:
        return 0
    _rowcount(
        sa.update(Proposal)
        .where(Proposal.consultation_id == consultation.id, Proposal.image_key.is_not(None))
        .values(image_key=None, image_alt=None)
    )
    for stored in db.session.scalars(sa.select(StoredFile).where(StoredFile.key.in_(keys))):
        files.discard_file(DETACHER, stored)
    return len(keys)


def due_consultations(now: datetime | None = None) -> list[int]:
    """Ids of the consultations closed before the period and not yet detached, those closed first first."""
    cutoff = (now or utcnow()) - timedelta(days=detach_after_days())
    return list(
        db.session.scalars(
            sa.select(Consultation.id)
            .where(
                Consultation.state.in_([ConsultationState.CLOSED, ConsultationState.ARCHIVED]),
                Consultation.closed_at <= cutoff,
                Consultation.authors_detached_at.is_(None),
            )
            .order_by(Consultation.closed_at, Consultation.id)
        )
    )


def detach_authors(now: datetime | None = None) -> DetachReport:
    """Detach the contributions of every consultation that is due (see the module's description)."""
    now = now or utcnow()
    days = detach_after_days()
    cutoff = now - timedelta(days=days)
    report = DetachReport()
    for consultation_id in due_consultations(now):
        with transaction():
            consultation = load_consultation(consultation_id, for_update=True)
            # Another run may have been quicker, or the consultation changed since the list was read.
            if consultation.authors_detached_at is not None or not (
                consultation.closed_at is not None and consultation.closed_at <= cutoff
            ):
                continue
            counts = detach_contributions(consultation)
            consultation.authors_detached_at = now
            audit.record(
                "participation.authors_detached",
                DETACHER,
                target=consultation,
                slug=consultation.slug,
                days=days,
                **counts,
            )
        report.consultations.append(consultation.slug)
        for name, n in counts.items():
            report.counts[name] = report.counts.get(name, 0) + n
    return report
