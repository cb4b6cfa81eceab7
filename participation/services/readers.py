"""Council read access: a consultation's managers let a named account (a council member, say) read its figures
before it closes, and end that again.

Who grants: the consultation's managers (its department's consultation managers, or a platform admin), to an
account that exists, by its email address; one grant in force per account and consultation (the database's
partial UNIQUE index), revocable at any time, never for an archived consultation. Each grant and revocation is
audited with the reader as its subject, so it appears in their own log; the reader is told by mail.

What a reader sees (`figures`, `reader_report`): the figures of the council report (participation.services.
report_figures) while the consultation runs — participation per week, the most supported proposals, categories,
the moderation figures, official answers — and the survey's results before they are public, counted without the
free texts. No participant is named: no pseudonym, no guest name, no free text. The consultation's managers may
open the same page (what their readers see). Everyone else gets 403, or 404 for a draft they may not know of.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload
from werkzeug.exceptions import Forbidden, NotFound

import participation.actions  # noqa: F401  (declares the audit actions)
from participation import rules
from participation.errors import ParticipationError
from participation.models import Consultation, ConsultationState, Proposal
from participation.models_readers import ConsultationReader
from participation.models_surveys import SurveyQuestion
from participation.services import moderation_queue, report, report_figures, survey_results
from participation.services.common import managed_consultation
from participation.services.moderation_queue import ModerationStats
from participation.services.report import CouncilReport
from participation.services.report_figures import Answer, Week
from participation.services.survey_results import SurveyResults
from portal.accounts.models import User
from portal.accounts.services.common import find_user_by_email
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import utcnow
from portal.transaction import transaction
from portal.urls import absolute_url

EMAIL_MAX = 254
REVOKED_SHOWN = 20  # ended grants listed under the ones in force, for the record


# --- who may read -----------------------------------------------------------------------------------------------


def is_reader(actor: Actor, consultation: Consultation) -> bool:
    """A person (not an API client) holding a grant in force for the consultation."""
    if actor.user is None or actor.token is not None:
        return False
    grant = sa.select(ConsultationReader.id).where(
        ConsultationReader.consultation_id == consultation.id,
        ConsultationReader.user_id == actor.user.id,
        ConsultationReader.revoked_at.is_(None),
    )
    return db.session.scalar(grant) is not None


def may_read(actor: Actor, consultation: Consultation) -> bool:
    return rules.is_manager(actor, consultation.department_id) or is_reader(actor, consultation)


def readable(actor: Actor, slug: str) -> Consultation:
    """The consultation at its address if the actor may read its figures: 404 if there is none (or it is a draft
    they may not read), 403 for a consultation everybody may see but they may not read the figures of."""
    consultation = db.session.scalar(
        sa.select(Consultation)
        .where(Consultation.slug == slug)
        .options(selectinload(Consultation.phases), selectinload(Consultation.department))
    )
    if consultation is None:
        raise NotFound()
    if may_read(actor, consultation):
        return consultation
    if consultation.state == ConsultationState.DRAFT:
        raise NotFound()
    raise Forbidden()


# --- what a reader sees -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    """A consultation's figures as its readers see them; no participant is named."""

    consultation: Consultation
    weeks: list[Week]
    top: list[Proposal]
    categories: list[tuple[str | None, int, int]]
    survey: SurveyResults | None  # None: the consultation has no survey
    moderation: ModerationStats | None  # None: a draft, nothing moderated yet
    answers: list[Answer]
    manager: bool  # the actor manages the consultation (the page says what readers see)


def _survey(consultation: Consultation) -> SurveyResults | None:
    """The survey's results as they stand, public yet or not, without the free texts (which were not moderated
    and may name people)."""
    asked = sa.select(SurveyQuestion.id).where(SurveyQuestion.consultation_id == consultation.id).limit(1)
    if consultation.state == ConsultationState.DRAFT or db.session.scalar(asked) is None:
        return None
    public = survey_results.results_public(consultation)
    return survey_results.count_results(consultation, public=public, with_texts=False)


def _moderation(consultation: Consultation) -> ModerationStats | None:
    if consultation.state == ConsultationState.DRAFT:
        return None
    found = moderation_queue.consultation_figures([consultation])
    return found[0] if found else None


def figures(actor: Actor, slug: str) -> Figures:
    """The figures of the consultation at `slug` for its readers and managers (others: 403 or 404)."""
    consultation = readable(actor, slug)
    return Figures(
        consultation=consultation,
        weeks=report_figures.weekly(consultation.id),
        top=report_figures.top_proposals(consultation.id),
        categories=report_figures.categories(consultation.id),
        survey=_survey(consultation),
        moderation=_moderation(consultation),
        answers=report_figures.official_answers(consultation.id),
        manager=rules.is_manager(actor, consultation.department_id),
    )


def reader_report(actor: Actor, slug: str, language: str = "de") -> CouncilReport:
    """The council report (PDF) with the figures a reader sees; audited as an export by the reader."""
    consultation = readable(actor, slug)
    return report.report_of(actor, consultation, language, _moderation(consultation), _survey(consultation))


# --- the managers: grant, revoke, list --------------------------------------------------------------------------


@dataclass
class ReaderItem:
    grant: ConsultationReader
    name: str  # the reader's account name (a council member or official, not a participant)
    email: str
    granted_by: str
    revoked_by: str | None


def readers_of(actor: Actor, consultation_id: int) -> list[ReaderItem]:
    """The grants of a consultation for its managers (others: 403): those in force, newest first, then the latest
    ended ones. One query."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound()
    if not rules.is_manager(actor, consultation.department_id):
        raise Forbidden()
    reader, granter, revoker = aliased(User), aliased(User), aliased(User)
    query = (
        sa.select(ConsultationReader, reader, granter, revoker)
        .join(reader, reader.id == ConsultationReader.user_id)
        .outerjoin(granter, granter.id == ConsultationReader.granted_by_id)
        .outerjoin(revoker, revoker.id == ConsultationReader.revoked_by_id)
        .where(ConsultationReader.consultation_id == consultation.id)
        .order_by(
            ConsultationReader.revoked_at.is_not(None),
            ConsultationReader.revoked_at.desc(),
            ConsultationReader.granted_at.desc(),
            ConsultationReader.id.desc(),
        )
    )
    items: list[ReaderItem] = []
    ended = 0
    for grant, user, by, revoked_by in db.session.execute(query):
        if grant.revoked_at is not None:
            ended += 1
            if ended > REVOKED_SHOWN:
                break
        items.append(ReaderItem(grant, _name(user), user.email, _name(by), _name(revoked_by) if revoked_by else None))
    return items


def _name(user: User | None) -> str:
    if user is None:
        return "–"
    return user.display_name or user.email


def _refused(field: str, message: object, code: str, status: int = 422) -> ParticipationError:
    return ParticipationError(field, message, code, status)


def grant(actor: Actor, consultation_id: int, email: str) -> ConsultationReader:
    """Let the account with this email address read the consultation's figures; by its managers (others: 403),
    not for an archived consultation, once while in force (already_reader, 409). Audited; the reader gets a mail
    with the page's address."""
    if not isinstance(email, str) or not email.strip():
        raise _refused("email", _l("Geben Sie die E-Mail-Adresse des Kontos an."), "required")
    if len(email.strip()) > EMAIL_MAX:
        raise _refused("email", _l("Die E-Mail-Adresse ist zu lang."), "too_long")
    with transaction():
        consultation = managed_consultation(actor, consultation_id)
        if consultation.state == ConsultationState.ARCHIVED:
            raise _refused(
                "email", _l("Für ein archiviertes Verfahren wird kein Zugang mehr gewährt."), "archived", 409
            )
        user = find_user_by_email(email)
        if user is None or user.deleted_at is not None:
            raise _refused(
                "email",
                _l(
                    "Zu dieser E-Mail-Adresse gibt es kein Konto. "
                    "Die Person muss sich zuerst im Stadtportal registrieren."
                ),
                "unknown_account",
            )
        assert actor.user is not None  # managed_consultation admits people only
        if user.id == actor.user.id:
            raise _refused("email", _l("Sie sehen die Kennzahlen dieses Verfahrens schon."), "own_account", 409)
        row = ConsultationReader(
            consultation_id=consultation.id, user_id=user.id, granted_by_id=actor.user.id, granted_at=utcnow()
        )
        try:
            db.session.add(row)
            db.session.flush()
        except IntegrityError:  # a grant in force already (or a concurrent double click won); ours is rolled back
            raise _refused(
                "email", _l("Dieses Konto kann die Kennzahlen schon einsehen."), "already_reader", 409
            ) from None
        audit.record(
            "participation.reader_granted",
            actor,
            target=row,
            subject_user_id=user.id,
            consultation=consultation.slug,
            department_id=consultation.department_id,
        )
        enqueue(
            user.email,
            _l("Kennzahlen des Beteiligungsverfahrens „%(title)s“", title=consultation.title),
            "participation_reader_granted",
            language=user.language,
            name=user.display_name or user.email,
            title=consultation.title,
            department=consultation.department.name,
            link=absolute_url("participation_readers.figures", slug=consultation.slug),
        )
    return row


def revoke(actor: Actor, consultation_id: int, grant_id: int) -> ConsultationReader:
    """End a grant in force (not_active, 409, if it ended already); by the consultation's managers. Audited."""
    with transaction():
        consultation = managed_consultation(actor, consultation_id)
        row = db.session.get(ConsultationReader, grant_id, with_for_update=True, populate_existing=True)
        if row is None or row.consultation_id != consultation.id:
            raise NotFound()
        if row.revoked_at is not None:
            raise _refused("grant", _l("Dieser Zugang ist schon beendet."), "not_active", 409)
        assert actor.user is not None
        row.revoked_at = utcnow()
        row.revoked_by_id = actor.user.id
        audit.record(
            "participation.reader_revoked",
            actor,
            target=row,
            subject_user_id=row.user_id,
            consultation=consultation.slug,
            department_id=consultation.department_id,
        )
    return row
