"""Demo data of the participation service: an open consultation (proposals, supports, threaded comments with
stances, a comment waiting for the moderators, a survey with answers), an upcoming one with a draft statute, and
a closed one whose proposals carry the city's official answers. What they say is in participation/demo_content.py.

Runs after the core demo (departments, accounts). Idempotent: the demo citizens are found by address, a
consultation by its department and title, a proposal by its title, a comment by its author and text, a support,
a flag, a survey answer and an official answer by what they belong to; what exists is left alone, and what is
missing is added where the rules still allow it (an interrupted load finishes on the next run). Refused unless
DEMO is on.

Who does what, honestly:
- The core demo has one citizen. This hook adds three more (buerger2@ to buerger4@, written as the core writes
  its accounts) and grants amtsadmin@ the role `consultation_manager` in the Verkehrs- und Tiefbauamt and the
  Amt für Bauordnung und Denkmalpflege (membership row + "role.granted" audited as the system), so a newcomer
  signs in as amtsadmin@ to manage the consultations; moderation@ (the core's moderator) finds the flagged
  comment in the queue.
- Everything else goes through the service functions, so audit events and counters are those of real use:
  amtsadmin@ drafts, schedules, publishes, closes and answers (the services admit only a person who manages the
  department, never the system); the citizens propose, support, comment, flag and answer the survey as
  themselves, each under a pseudonym chosen with their first contribution.
- Phases never overlap, so the open consultation's survey runs inside its proposal phase (that phase opens
  "answer_survey" besides its kind's actions), not in a phase of its own.
- Only the rules' "now" exists, so the closed consultation is run for real at load time: its proposal phase
  (begun six weeks ago) is open while the proposals arrive, then ends at the load and the consultation closes;
  its publication and closing dates are therefore the day of the load.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from participation.demo_content import (
    CONSULTATIONS,
    MANAGED_DEPARTMENTS,
    MANAGER,
    NEW_CITIZENS,
    PARTICIPANTS,
    DemoConsultation,
    DemoPhase,
)
from participation.errors import ParticipationError
from participation.models import Comment, Consultation, ConsultationState, Proposal, Pseudonym, Support
from participation.models_moderation import ContributionKind, Flag
from participation.models_results import AnswerStatus
from participation.models_surveys import DraftParagraph
from participation.rules import MANAGER_ROLE
from participation.services import answers, comments, consultations, drafts, moderation, proposals, supports, surveys
from participation.services import phases as phase_service
from participation.services.pseudonyms import name_key
from portal.accounts.models import DepartmentMembership, User
from portal.accounts.passwords import hash_password
from portal.actors import SYSTEM, Actor
from portal.audit import services as audit
from portal.demo_data import DEMO_DOMAIN, DEMO_PASSWORD, _require_demo
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow
from portal.transaction import transaction

T = TypeVar("T")
KINDS = (
    ("accounts", "demo citizens"),
    ("roles", "consultation manager roles"),
    ("consultations", "consultations"),
    ("proposals", "proposals"),
    ("supports", "supports"),
    ("comments", "comments"),
    ("flags", "flagged comments"),
    ("survey answers", "survey answers"),
    ("answers", "official answers"),
    ("progress", "progress notes"),
)


def day(offset: int) -> datetime:
    """Midnight in Berlin `offset` days from today, in UTC."""
    today = utcnow().astimezone(BERLIN).date()
    return datetime.combine(today + timedelta(days=offset), time(0), tzinfo=BERLIN).astimezone(UTC)


def _email(local_part: str) -> str:
    return f"{local_part}@{DEMO_DOMAIN}"


@dataclass
class _Loader:
    echo: Callable[[str], None]
    created: Counter[str] = field(default_factory=Counter)
    present: Counter[str] = field(default_factory=Counter)
    users: dict[str, User] = field(default_factory=dict)
    steps: int = 0  # phases added, survey and draft written, published, closed: changes, but no records to count

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.present)[kind] += 1

    def user(self, local_part: str) -> User | None:
        return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == _email(local_part)))

    def actor(self, local_part: str) -> Actor:
        return Actor.for_user(self.users[local_part])

    def attempt(self, what: str, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Run one use case; a refusal (a phase that ended since an interrupted load, a name someone took) is
        reported and skipped, the rest of the demo still loads."""
        try:
            return use_case(*args, **kwargs)
        except ParticipationError as refused:
            self.echo(f"  skipped {what}: {refused.message}")
            return None

    # --- people -------------------------------------------------------------------------------------------------

    def people(self) -> bool:
        """The demo citizens and the manager's roles, in one transaction; False when the core demo is missing."""
        departments = [get_department_by_slug(slug) for slug in MANAGED_DEPARTMENTS]
        core = {local: self.user(local) for local in ("buerger", MANAGER)}
        if None in departments or None in core.values():
            return False
        with transaction():
            password_hash = None
            for local, display_name in NEW_CITIZENS:
                user = self.user(local)
                self.count("accounts", user is None)
                if user is None:
                    password_hash = password_hash or hash_password(DEMO_PASSWORD)
                    user = User(
                        email=_email(local),
                        password_hash=password_hash,
                        display_name=display_name,
                        language="de",
                        email_verified_at=utcnow(),
                    )
                    db.session.add(user)
                    db.session.flush()
                self.users[local] = user
            manager = core[MANAGER]
            assert manager is not None
            for department in departments:
                assert department is not None
                has = manager.has_role(MANAGER_ROLE, department.id)
                self.count("roles", not has)
                if not has:
                    manager.memberships.append(DepartmentMembership(department_id=department.id, role=MANAGER_ROLE))
                    audit.record(
                        "role.granted",
                        SYSTEM,
                        target=manager,
                        subject_user_id=manager.id,
                        role=MANAGER_ROLE,
                        department_id=department.id,
                    )
        self.users.update({local: user for local, user in core.items() if user is not None})
        return True

    def pseudonym(self, local_part: str) -> str:
        """The name to choose with a first contribution: the demo's, or (someone took it) the demo's with a
        number; ignored by the services once the person has one."""
        wanted = PARTICIPANTS[local_part]
        for candidate in [wanted] + [f"{wanted} {n}" for n in range(2, 10)]:
            owner = db.session.scalar(sa.select(Pseudonym.user_id).where(Pseudonym.name_key == name_key(candidate)))
            if owner is None or owner == self.users[local_part].id:
                return candidate
        return wanted  # the service says the name is taken; the contribution is skipped and reported

    # --- a consultation's own story (its manager) ---------------------------------------------------------------

    def consultation(self, spec: DemoConsultation) -> Consultation | None:
        department = get_department_by_slug(spec.department)
        assert department is not None  # checked by people()
        found = db.session.scalar(
            sa.select(Consultation)
            .where(Consultation.department_id == department.id, Consultation.title == spec.draft.title)
            .order_by(Consultation.id)
            .limit(1)
        )
        manager = self.actor(MANAGER)
        if found is not None:
            self.count("consultations", False)
        else:
            found = self.attempt(
                f"„{spec.draft.title}“", consultations.create_consultation, manager, department.id, spec.draft
            )
            if found is None:
                return None
            self.count("consultations", True)
        if found.state == ConsultationState.DRAFT:
            self.prepare(spec, found)
            if self.attempt(f"publishing „{found.title}“", consultations.publish, manager, found.id):
                self.steps += 1
        return found

    def prepare(self, spec: DemoConsultation, consultation: Consultation) -> None:
        """A draft's timeline, survey questions and draft text, each where it is still missing."""
        manager, consultation_id = self.actor(MANAGER), consultation.id
        have = {phase.title for phase in consultation.phases}
        for phase in spec.phases:
            if phase.title not in have:
                self.add_phase(consultation_id, phase, day(phase.start_day))
        if spec.questions and not surveys.ordered_questions(consultation_id):
            for question in spec.questions:
                added = self.attempt("a survey question", surveys.add_question, manager, consultation_id, question)
                self.steps += added is not None
        if spec.draft_text:
            written = db.session.scalar(
                sa.select(DraftParagraph.id).where(DraftParagraph.consultation_id == consultation_id).limit(1)
            )
            if written is None:
                saved = self.attempt("the draft text", drafts.save_draft, manager, consultation_id, spec.draft_text)
                self.steps += saved is not None

    def add_phase(self, consultation_id: int, phase: DemoPhase, starts_at: datetime) -> None:
        actions = list(phase.actions) if phase.actions is not None else None
        added = self.attempt(
            f"the phase „{phase.title}“",
            phase_service.add_phase,
            self.actor(MANAGER),
            consultation_id,
            kind=phase.kind,
            title=phase.title,
            starts_at=starts_at,
            ends_at=day(phase.end_day),
            description=phase.description,
            actions=actions,
        )
        self.steps += added is not None

    def close(self, spec: DemoConsultation, consultation: Consultation) -> None:
        """End the proposal phase now, add the phase that follows, close the consultation."""
        closing = spec.closing_phase
        if closing is None or consultation.state != ConsultationState.PUBLISHED:
            return
        manager, now = self.actor(MANAGER), utcnow()
        for phase in consultation.phases:
            if phase.title != closing.title and phase.starts_at < now < phase.ends_at:
                self.attempt(
                    f"ending the phase „{phase.title}“",
                    phase_service.update_phase,
                    manager,
                    phase.id,
                    kind=phase.kind,
                    title=phase.title,
                    starts_at=phase.starts_at,
                    ends_at=now,
                    description=phase.description,
                    actions=list(phase.actions),
                )
        if closing.title not in {phase.title for phase in consultation.phases}:
            self.add_phase(consultation.id, closing, now)
        if self.attempt(f"closing „{consultation.title}“", consultations.close, manager, consultation.id):
            self.steps += 1

    # --- the participants' contributions ------------------------------------------------------------------------

    def proposals(self, spec: DemoConsultation, consultation: Consultation) -> dict[str, Proposal]:
        found = {
            p.title: p
            for p in db.session.scalars(sa.select(Proposal).where(Proposal.consultation_id == consultation.id))
        }
        for item in spec.proposals:
            if item.title in found:
                self.count("proposals", False)
                continue
            lat, lon = item.point or (None, None)
            made = self.attempt(
                f"the proposal „{item.title}“",
                proposals.create_proposal,
                self.actor(item.author),
                consultation.id,
                title=item.title,
                body=item.body,
                category=item.category,
                address=item.address,
                lat=lat,
                lon=lon,
                pseudonym=self.pseudonym(item.author),
            )
            if made is not None:
                self.count("proposals", True)
                found[item.title] = made
        for item in spec.proposals:
            proposal = found.get(item.title)
            for supporter in item.supporters if proposal is not None else ():
                assert proposal is not None
                exists = db.session.scalar(
                    sa.select(Support.id).where(
                        Support.proposal_id == proposal.id, Support.user_id == self.users[supporter].id
                    )
                )
                if exists is not None:
                    self.count("supports", False)
                elif self.attempt(f"a support of „{item.title}“", supports.support, self.actor(supporter), proposal.id):
                    self.count("supports", True)
        return found

    def comments(self, spec: DemoConsultation, consultation: Consultation, found: dict[str, Proposal]) -> None:
        written: dict[str, Comment] = {}
        for item in spec.comments:
            author = self.users[item.author]
            comment = db.session.scalar(
                sa.select(Comment)
                .where(
                    Comment.consultation_id == consultation.id,
                    Comment.author_id == author.id,
                    Comment.body == item.body,
                )
                .limit(1)
            )
            if comment is not None:
                self.count("comments", False)
            else:
                proposal = found.get(item.proposal) if item.proposal else None
                parent = written.get(item.parent) if item.parent else None
                if (item.proposal and proposal is None) or (item.parent and parent is None):
                    continue  # what it answers was skipped
                comment = self.attempt(
                    "a comment",
                    comments.create_comment,
                    self.actor(item.author),
                    consultation.id,
                    body=item.body,
                    proposal_id=proposal.id if proposal else None,
                    parent_id=parent.id if parent else None,
                    stance=item.stance,
                    pseudonym=self.pseudonym(item.author),
                )
                if comment is None:
                    continue
                self.count("comments", True)
            written[item.key] = comment
            if item.flag is not None:
                self.flag(comment, *item.flag)

    def flag(self, comment: Comment, reporter: str, reason: str, text: str) -> None:
        kind = ContributionKind.COMMENT.value
        exists = db.session.scalar(
            sa.select(Flag.id).where(
                Flag.contribution_kind == kind,
                Flag.contribution_id == comment.id,
                Flag.reporter_id == self.users[reporter].id,
            )
        )
        if exists is not None:
            self.count("flags", False)
        elif self.attempt(
            "flagging a comment", moderation.flag, self.actor(reporter), kind, comment.id, reason=reason, text=text
        ):
            self.count("flags", True)

    def survey(self, spec: DemoConsultation, consultation: Consultation) -> None:
        questions = surveys.ordered_questions(consultation.id)
        for participant, given in spec.survey_answers.items():
            actor = self.actor(participant)
            if surveys.has_answered(actor, consultation.id):
                self.count("survey answers", False)
                continue
            chosen = {questions[position].id: _answer(questions[position], raw) for position, raw in given.items()}
            if self.attempt("a survey answer", surveys.answer_survey, actor, consultation.id, chosen):
                self.count("survey answers", True)

    # --- the city's answers (the manager) -----------------------------------------------------------------------

    def answers(self, spec: DemoConsultation, found: dict[str, Proposal]) -> None:
        manager = self.actor(MANAGER)
        for item in spec.proposals:
            proposal = found.get(item.title)
            if proposal is None or item.answer is None:
                continue
            db.session.refresh(proposal)
            status, text = item.answer
            if proposal.answer_status is not None:
                self.count("answers", False)
            elif self.attempt("an official answer", answers.answer, manager, proposal.id, status, text):
                self.count("answers", True)
                db.session.refresh(proposal)
            if item.progress is None or proposal.answer_status != AnswerStatus.ACCEPTED:
                continue
            progress_status, note = item.progress
            if proposal.implementation_status is not None:
                self.count("progress", False)
            elif self.attempt("a progress note", answers.add_progress, manager, proposal.id, progress_status, note):
                self.count("progress", True)


def _answer(question: Any, raw: object) -> object:
    """An answer written by labels (the demo's texts) as the survey service takes it: option ids, or the value."""
    ids = {option.label: option.id for option in question.options}
    if isinstance(raw, list):
        return [ids[label] for label in raw]
    return ids.get(raw, raw) if isinstance(raw, str) else raw


def load(echo: Callable[[str], None] = print) -> dict[str, int]:
    """Add the participation demo; returns how many of each kind were created."""
    _require_demo()
    loader = _Loader(echo)
    echo("Participation …")
    if not loader.people():
        echo("  skipped: the demo departments or accounts are missing (run the core demo first)")
        return {}
    for spec in CONSULTATIONS:
        consultation = loader.consultation(spec)
        if consultation is None:
            continue
        found = loader.proposals(spec, consultation)
        loader.comments(spec, consultation, found)
        if spec.survey_answers:
            loader.survey(spec, consultation)
        loader.close(spec, consultation)
        loader.answers(spec, found)
    for kind, label in KINDS:
        echo(f"  {label}: {loader.created[kind]} created, {loader.present[kind]} already present")
    created, present = sum(loader.created.values()), sum(loader.present.values())
    if created or loader.steps:
        echo(f"  participation: {created} created, {present} already present")
    else:
        echo(f"  participation: nothing changed – all {present} demo records were already present")
    return dict(loader.created)
