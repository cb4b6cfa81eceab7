"""The rules `dataaccess.services.access.read` checks before it reads, in the order its docstring lists them.

Each check fills in the `Attempt` (what is known about the access so far) or raises a `Refusal`, which the
access function logs and turns into AccessRefused. The attempt also says what the log records of a refused
access: as much as was known when the rule failed, made safe to store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dataaccess.errors import DataAccessError
from dataaccess.models import (
    AccessAgreement,
    AccessClient,
    AgreementState,
    BreakGlassSession,
    CitizenRequest,
    Purpose,
    SubjectKind,
)
from dataaccess.services import agreement_cache, breakglass, citizen_requests
from dataaccess.services.agreement_cache import AgreementView, DatasetView
from dataaccess.services.common import SCOPE, loggable, member_of
from dataaccess.services.records import Subject, parse_subject
from portal.accounts import tokens
from portal.accounts.models import ApiToken, User
from portal.actors import Actor
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import to_berlin

CASE_REFERENCE_MAX = 60
FIELDS_MAX = 200


class Refusal(Exception):  # noqa: N818 - internal signal, turned into AccessRefused once logged
    def __init__(
        self,
        code: str,
        message: str,
        fields: list[str] | None = None,
        retry_after: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = fields or []
        self.retry_after = retry_after
        self.field = field or _FIELD_OF.get(code, "agreement")


@dataclass(frozen=True)
class PurposeFound:
    code: str
    label: str  # plain German: the citizen reads it in their log


@dataclass
class Attempt:
    """What is known about an access so far; the refusal log records as much of it as there is."""

    actor: Actor
    asked_agreement: Any
    raw_subject: Any
    raw_purpose: Any
    raw_fields: Any
    raw_case_reference: Any
    now: datetime  # when the access was asked: the agreement's day and the emergency access's time box
    agreement: AgreementView | None = None
    admitted: bool = False  # the actor reads for the consuming department
    consumer_name: str | None = None  # the consuming department's name, read with the look-ups
    subject: Subject | None = None
    purpose: PurposeFound | None = None
    purpose_code: str | None = None
    fields: list[str] = field(default_factory=list)
    case_reference: str | None = None
    citizen_request: CitizenRequest | None = None
    breakglass: BreakGlassSession | None = None

    @property
    def dataset(self) -> DatasetView | None:
        if self.agreement is not None:
            return self.agreement.dataset
        return DatasetView.of(self.breakglass.dataset) if self.breakglass is not None else None

    # --- what the log records -----------------------------------------------------------------------------

    @property
    def consumer_id(self) -> int | None:
        """The consuming department, once the actor is known to read for it."""
        if not self.admitted:
            return None
        if self.agreement is not None:
            return self.agreement.consumer_department_id
        return self.breakglass.consumer_department_id if self.breakglass is not None else None

    @property
    def legal_basis(self) -> str | None:
        if self.agreement is not None:
            return self.agreement.legal_basis_citation
        return breakglass.legal_basis(self.breakglass.category) if self.breakglass is not None else None

    @property
    def purpose_label(self) -> str | None:
        if self.purpose is not None:
            return self.purpose.label
        return breakglass.purpose_text(self.breakglass.category) if self.breakglass is not None else None

    @property
    def logged_agreement(self) -> str | None:
        """The agreement's reference, or what was asked for when no agreement was found."""
        return self.agreement.reference if self.agreement is not None else loggable(self.asked_agreement, 40)

    @property
    def logged_purpose_code(self) -> str | None:
        return self.purpose_code or loggable(self.raw_purpose, 40)

    @property
    def logged_case_reference(self) -> str | None:
        return self.case_reference or loggable(self.raw_case_reference, CASE_REFERENCE_MAX)

    def subject_for_log(self) -> tuple[int | None, str | None]:
        """(subject_user_id, subject_reference) as far as the attempt names one; a user id only if it exists."""
        if self.subject is not None:
            return self.subject.user_id, self.subject.reference
        raw = self.raw_subject
        kind = self.dataset.subject_kind if self.dataset is not None else None
        user_id: int | None = None
        if isinstance(raw, User):
            user_id = raw.id
        elif isinstance(raw, int) and not isinstance(raw, bool):
            user_id = raw
        elif isinstance(raw, str) and kind == SubjectKind.CITIZEN and raw.strip().isdigit():
            user_id = int(raw.strip())
        if user_id is not None:
            exists = 0 < user_id < 2**31 and db.session.get(User, user_id) is not None
            return (user_id, None) if exists else (None, loggable(user_id, 100))
        if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int | float):
            return None, None
        return None, loggable(raw, 100)

    def requested_fields(self) -> list[str]:
        if self.fields:
            return self.fields
        raw = self.raw_fields
        if isinstance(raw, list | tuple):
            return [text for f in raw[:FIELDS_MAX] if (text := loggable(f, 64))]
        return []


# --- under an agreement -----------------------------------------------------------------------------------


@dataclass
class Lookups:
    """The small look-ups the rules after the agreement need, read in one statement (one round trip instead of
    six): whether a kept agreement version is still approved, whether the client's token is still in force, the
    consuming department's name, the client's binding, whether the subject's account exists, the purpose. Each
    rule still decides in its own order; a look-up whose input does not parse finds nothing (its rule refuses
    anyway)."""

    still_approved: bool
    token_in_force: bool  # the client's token is not revoked (workers keep tokens: portal.accounts.tokens)
    department_name: str | None
    binding: tuple[int, str | None] | None  # the token's (department id, agreement reference)
    subject_exists: bool
    purpose: PurposeFound | None


def _purpose_code(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    code = raw.strip().upper()
    return code if len(code) <= 40 else None


def _look_up_statement() -> sa.Select[Any]:
    """Built once: a statement built per access costs more to compile-cache than to run. Parameters left None
    match nothing, so the statement is the same whatever the access names."""

    def scalar(column: Any, *where: Any) -> Any:
        return sa.select(column).where(*where).scalar_subquery()

    token_id = sa.bindparam("token_id", type_=sa.Integer)
    one = sa.select(sa.literal(1).label("one")).subquery()
    return (
        sa.select(
            scalar(
                AccessAgreement.state,
                AccessAgreement.id == sa.bindparam("agreement_id"),
                AccessAgreement.approved_at == sa.bindparam("approved_at"),
            ),
            scalar(ApiToken.id, ApiToken.id == token_id, ApiToken.revoked_at.is_(None)),
            scalar(Department.name, Department.id == sa.bindparam("department_id")),
            scalar(AccessClient.department_id, AccessClient.token_id == token_id),
            scalar(AccessClient.agreement_reference, AccessClient.token_id == token_id),
            scalar(User.id, User.id == sa.bindparam("user_id")),
            Purpose.code,
            Purpose.label,
        )
        .select_from(one)
        .outerjoin(Purpose, Purpose.code == sa.bindparam("code"))
    )


_LOOK_UP = _look_up_statement()


def _look_up(attempt: Attempt, agreement: AgreementView) -> Lookups:
    token = attempt.actor.token
    try:
        user_id = parse_subject(attempt.raw_subject, agreement.dataset.subject_kind).user_id
    except DataAccessError:
        user_id = None
    params = {
        "agreement_id": agreement.id,
        "approved_at": agreement.approved_at,
        "department_id": agreement.consumer_department_id,
        "token_id": token.id if token is not None else None,
        "user_id": user_id,
        "code": _purpose_code(attempt.raw_purpose),
    }
    state, token_id, name, department_id, reference, found_user, code, label = (
        db.session.connection().execute(_LOOK_UP, params).one()
    )
    return Lookups(
        still_approved=state == AgreementState.APPROVED,
        token_in_force=token_id is not None,
        department_name=name,
        binding=(department_id, reference) if department_id is not None else None,
        subject_exists=found_user is not None,
        purpose=PurposeFound(code, label) if code is not None else None,
    )


def check(attempt: Attempt) -> None:
    """An access under an agreement: every rule up to the ones checked in the read's transaction."""
    kept = _find_agreement(attempt)
    agreement = attempt.agreement
    assert agreement is not None
    lookups = _look_up(attempt, agreement)
    if kept and not lookups.still_approved:
        # Revoked or superseded since this worker kept it: the agreement as it is now decides.
        agreement_cache.forget(agreement)
        _find_agreement(attempt)
        agreement = attempt.agreement
        assert agreement is not None
        lookups = _look_up(attempt, agreement)
    if attempt.actor.token is not None and not lookups.token_in_force:
        raise tokens.revoked_meanwhile()
    _check_agreement_state(attempt)
    attempt.consumer_name = lookups.department_name
    attempt.admitted = _admitted(attempt.actor, agreement, lookups)
    if not attempt.admitted:
        raise Refusal("wrong_department", _("Sie lesen nicht für das Amt, für das diese Vereinbarung gilt."))
    _check_subject(attempt, lookups)
    _check_purpose(attempt, lookups)
    _check_fields(attempt)
    _check_case_reference(attempt)
    _check_citizen_request(attempt)


def _find_agreement(attempt: Attempt) -> bool:
    """Sets attempt.agreement; True if it is a kept version (still to be confirmed by the look-ups)."""
    asked = attempt.asked_agreement
    if asked is None or (isinstance(asked, str) and not asked.strip()):
        raise Refusal("agreement_required", _("Geben Sie die Vereinbarung an, auf die sich der Abruf stützt."))
    agreement, kept = agreement_cache.find(asked)
    if agreement is None:
        raise Refusal("no_agreement", _("Diese Datenzugriffsvereinbarung gibt es nicht."))
    attempt.agreement = agreement
    return kept


def _check_agreement_state(attempt: Attempt) -> None:
    agreement = attempt.agreement
    assert agreement is not None
    status = agreement.status_on(to_berlin(attempt.now).date())
    if status in (AgreementState.DRAFT, AgreementState.SUBMITTED, AgreementState.REJECTED):
        raise Refusal("not_approved", _("Diese Vereinbarung ist nicht freigegeben."))
    if status == AgreementState.REVOKED:
        raise Refusal("revoked", _("Diese Vereinbarung wurde widerrufen."))
    if status == AgreementState.SUPERSEDED:
        raise Refusal("superseded", _("Diese Version der Vereinbarung ist durch eine neuere ersetzt."))
    if status == "not_in_force":
        raise Refusal(
            "not_in_force",
            _("Diese Vereinbarung gilt erst ab dem %(day)s.", day=agreement.valid_from.strftime("%d.%m.%Y")),
        )
    if status == "expired":
        raise Refusal(
            "expired", _("Diese Vereinbarung ist am %(day)s abgelaufen.", day=agreement.valid_to.strftime("%d.%m.%Y"))
        )


def _admitted(actor: Actor, agreement: AgreementView, lookups: Lookups) -> bool:
    """Whether the actor reads for the agreement's consuming department."""
    consumer = agreement.consumer_department_id
    if actor.token is not None:
        if SCOPE not in actor.scopes:
            return False
        if lookups.binding is None:
            # A staff member's personal token reads as that person would.
            return actor.user is not None and member_of(actor, consumer)
        department_id, reference = lookups.binding
        return department_id == consumer and reference in (None, agreement.reference)
    return actor.kind == "user" and member_of(actor, consumer)


def _check_purpose(attempt: Attempt, lookups: Lookups) -> None:
    agreement = attempt.agreement
    assert agreement is not None
    raw = attempt.raw_purpose
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise Refusal("purpose_required", _("Geben Sie den Zweck des Abrufs an."))
    if not isinstance(raw, str):
        raise Refusal("invalid_input", _("Geben Sie den Zweck als Code an, z. B. BAU-PRUEF."), field="purpose")
    code = raw.strip().upper()
    attempt.purpose_code = loggable(code, 40)
    attempt.purpose = lookups.purpose
    if code not in agreement.purposes or attempt.purpose is None:
        raise Refusal(
            "purpose_not_allowed",
            _("Für den Zweck %(code)s erlaubt die Vereinbarung keinen Abruf.", code=attempt.purpose_code),
        )


def _check_citizen_request(attempt: Attempt) -> None:
    agreement, subject = attempt.agreement, attempt.subject
    assert agreement is not None and subject is not None and attempt.purpose_code is not None
    if not agreement.requires_citizen_request:
        return
    found = None
    if subject.user_id is not None:
        found = citizen_requests.find_request(
            subject.user_id,
            agreement.consumer_department_id,
            agreement.dataset_id,
            attempt.purpose_code,
            attempt.case_reference,
        )
    if found is None:
        raise Refusal("citizen_request_missing", _("Die betroffene Person hat diesen Abruf nicht beantragt."))
    attempt.citizen_request = found


# --- in an emergency access (break-glass) ---------------------------------------------------------------------


def check_breakglass(attempt: Attempt, asked: Any) -> None:
    """An emergency read: the session instead of an agreement, then the subject, fields and case reference."""
    session: BreakGlassSession | None = None
    if isinstance(asked, BreakGlassSession):
        session = db.session.get(BreakGlassSession, asked.id)
    elif isinstance(asked, int) and not isinstance(asked, bool) and 0 < asked < 2**31:
        session = db.session.get(BreakGlassSession, asked)
    if session is None:
        raise Refusal("breakglass_unknown", _("Diesen Notfallzugriff gibt es nicht."), field="breakglass")
    attempt.breakglass = session
    actor = attempt.actor
    if actor.token is not None or actor.user is None or actor.user.id != session.user_id:
        raise Refusal(
            "breakglass_not_yours", _("Diesen Notfallzugriff hat eine andere Person geöffnet."), field="breakglass"
        )
    if not member_of(actor, session.consumer_department_id):
        raise Refusal("wrong_department", _("Sie gehören nicht mehr zu dem Amt, für das Sie lesen wollten."))
    attempt.admitted = True
    attempt.consumer_name = session.consumer_department.name
    attempt.purpose_code = breakglass.PURPOSE_CODE
    if not session.is_active(attempt.now):
        raise Refusal(
            "breakglass_expired",
            _("Dieser Notfallzugriff ist abgelaufen oder beendet. Öffnen Sie bei Bedarf einen neuen."),
            field="breakglass",
        )
    _check_subject(attempt, None)
    _check_fields(attempt)
    _check_case_reference(attempt)


# --- both -----------------------------------------------------------------------------------------------------


def _check_subject(attempt: Attempt, lookups: Lookups | None) -> None:
    dataset = attempt.dataset
    assert dataset is not None
    try:
        subject = parse_subject(attempt.raw_subject, dataset.subject_kind)
    except DataAccessError as error:
        raise Refusal("invalid_subject", error.message) from None
    if subject.user_id is not None:
        if lookups is not None:
            exists = lookups.subject_exists
        else:
            exists = db.session.scalar(sa.select(User.id).where(User.id == subject.user_id)) is not None
        if not exists:
            raise Refusal("unknown_subject", _("Dieses Bürgerkonto gibt es nicht."))
    attempt.subject = subject


def _check_fields(attempt: Attempt) -> None:
    agreement, session = attempt.agreement, attempt.breakglass
    # Break-glass has no agreement: any field the dataset has may be read, and each one read is logged.
    if agreement is not None:
        allowed = agreement.fields
    else:
        assert session is not None
        allowed = tuple(session.dataset.field_names)
    raw = attempt.raw_fields
    if raw is None or (isinstance(raw, list | tuple) and not raw):
        raise Refusal("fields_required", _("Geben Sie an, welche Felder Sie brauchen."))
    if isinstance(raw, str) or not isinstance(raw, list | tuple) or not all(isinstance(f, str) for f in raw):
        raise Refusal("invalid_input", _("Geben Sie die Felder als Liste von Namen an."), field="fields")
    if len(raw) > FIELDS_MAX:
        raise Refusal("invalid_input", _("Zu viele Felder."), field="fields")
    attempt.fields = list(dict.fromkeys(f.strip() for f in raw if f.strip()))
    if not attempt.fields:
        raise Refusal("fields_required", _("Geben Sie an, welche Felder Sie brauchen."))
    refused = [f for f in attempt.fields if f not in allowed]
    if refused:
        shown = [loggable(f, 64) or "?" for f in refused]
        raise Refusal(
            "field_not_allowed",
            _("Diese Felder erlaubt die Vereinbarung nicht: %(fields)s", fields=", ".join(shown)),
            fields=shown,
        )


def _check_case_reference(attempt: Attempt) -> None:
    agreement = attempt.agreement
    required = agreement.requires_case_reference if agreement is not None else False
    raw = attempt.raw_case_reference
    if raw is not None and not isinstance(raw, str):
        raise Refusal("invalid_input", _("Geben Sie das Aktenzeichen als Text an."), field="case_reference")
    text = " ".join((raw or "").split())
    if len(text) > CASE_REFERENCE_MAX or not text.isprintable():
        raise Refusal(
            "invalid_input",
            _("Geben Sie ein Aktenzeichen mit höchstens %(n)s Zeichen an.", n=CASE_REFERENCE_MAX),
            field="case_reference",
        )
    attempt.case_reference = text or None
    if attempt.case_reference is None and attempt.breakglass is not None:
        attempt.case_reference = attempt.breakglass.case_reference
    # Machine clients name the case on every call: their log entries must say what they were for.
    if attempt.case_reference is None and (required or attempt.actor.token is not None):
        raise Refusal("case_reference_required", _("Geben Sie das Aktenzeichen des Vorgangs an, für den Sie lesen."))


# Which input a refusal concerns (a form shows the message next to it; the API names it in the problem).
_FIELD_OF = {
    "wrong_department": "agreement",
    "invalid_subject": "subject",
    "unknown_subject": "subject",
    "purpose_required": "purpose",
    "purpose_not_allowed": "purpose",
    "fields_required": "fields",
    "field_not_allowed": "fields",
    "case_reference_required": "case_reference",
    "citizen_request_missing": "subject",
    "rate_limited": "agreement",
}
