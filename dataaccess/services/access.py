"""The one function through which every read of another department's data goes: `read`.

    result = read(actor, "DZV-2026-000001", "BAU-PRUEF", "BA-2026-0042", citizen.id, ["aktenzeichen", "status"])
    result.records        # [{"aktenzeichen": ..., "status": ...}, ...]: only these fields, only this subject

It checks, in this order, and refuses with the first rule that fails (code → HTTP status in
dataaccess.errors.REFUSAL_STATUS):

    agreement_required, no_agreement          the agreement named (a reference for the version in force, or a
                                              version's id) exists
    not_approved, revoked, superseded,        that version is approved and in force today (Europe/Berlin)
    not_in_force, expired
    wrong_department                          a person: belongs to the consuming department (any role there);
                                              a machine client: its token has the scope `dataaccess` and is bound
                                              to that department (and, if bound to one agreement, to this one)
    invalid_subject, unknown_subject          the subject fits the dataset (an account id, or a case reference)
    purpose_required, purpose_not_allowed     the purpose code is one the agreement allows
    fields_required, field_not_allowed        every field asked for is allowed (the refusal names the others)
    invalid_input, case_reference_required    a case reference where the agreement requires one, and always
                                              for machine clients
    citizen_request_missing                   the person's own request, where the agreement requires it
    rate_limited                              the official's (or client's) granted accesses under this
                                              agreement in the last hour stay below its limit

A granted access returns only the allowed fields asked for and writes its access-log row and audit event
(PURPOSE, LEGAL_BASIS, DEPARTMENT_ID, subject_user_id) in the same transaction as the read: if writing them
fails, the transaction rolls back and the caller gets the exception, never the data. A refusal is logged the
same way (log row outcome "refused", audit outcome "denied") and then raised as AccessRefused.

The rate limit is exact on PostgreSQL: the audit chain's transaction lock, which the access's audit event
takes anyway, is taken before counting, so two accesses of one official cannot both see the last free slot.

Break-glass (`read(..., breakglass=session_id)`, see dataaccess.services.breakglass): an emergency read without
an agreement. Checked instead: breakglass_unknown (the session exists), breakglass_not_yours (the person
opened it), wrong_department (still belongs to its consuming department), breakglass_expired (not ended, time
box not run out), then the subject and the fields (any field of the session's dataset). The purpose is the
session's category, the case reference optional (the session's by default), no rate limit. Logged like any
access, with the log row's `breakglass_id` set and the audit action "dataaccess.breakglass_read".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import REFUSAL_STATUS, AccessRefused, DataAccessError
from dataaccess.models import (
    AccessAgreement,
    AccessLog,
    AccessOutcome,
    AgreementState,
    BreakGlassSession,
    CitizenRequest,
    Dataset,
    Purpose,
    SubjectKind,
)
from dataaccess.services import agreements, breakglass, citizen_requests
from dataaccess.services.clients import binding_of
from dataaccess.services.common import SCOPE, loggable, member_of
from dataaccess.services.records import Subject, fetch_records, parse_subject
from portal.accounts.models import User
from portal.actors import Actor
from portal.audit import services as audit
from portal.audit.services import CHAIN_LOCK_KEY
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import as_utc, to_berlin, utcnow
from portal.transaction import transaction

CASE_REFERENCE_MAX = 60
FIELDS_MAX = 200
RATE_WINDOW = timedelta(hours=1)
# The refusals only an emergency read (break-glass) can meet, with their HTTP status.
BREAKGLASS_REFUSAL_STATUS = {"breakglass_unknown": 404, "breakglass_not_yours": 403, "breakglass_expired": 403}


@dataclass(frozen=True)
class AccessResult:
    """What a granted access returns: the records, each with exactly `fields`, and where it is logged."""

    agreement: str  # the reference
    version: int
    dataset: str  # the dataset's key
    subject: Subject
    purpose: str  # the purpose code
    case_reference: str | None
    fields: tuple[str, ...]
    records: list[dict[str, Any]]
    log_id: int
    audit_seq: int
    accessed_at: datetime
    breakglass: int | None = None  # the emergency access it was read in (agreement "" and version 0 then)


class _Refusal(Exception):  # noqa: N818 - internal signal, turned into AccessRefused once logged
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


@dataclass
class _Attempt:
    """What is known about an access so far; the refusal log records as much of it as there is."""

    actor: Actor
    asked_agreement: Any
    raw_subject: Any
    raw_purpose: Any
    raw_fields: Any
    raw_case_reference: Any
    agreement: AccessAgreement | None = None
    admitted: bool = False  # the actor reads for the consuming department
    subject: Subject | None = None
    purpose: Purpose | None = None
    purpose_code: str | None = None
    fields: list[str] = field(default_factory=list)
    case_reference: str | None = None
    citizen_request: CitizenRequest | None = None
    breakglass: BreakGlassSession | None = None

    @property
    def dataset(self) -> Dataset | None:
        if self.agreement is not None:
            return self.agreement.dataset
        return self.breakglass.dataset if self.breakglass is not None else None


# --- the function --------------------------------------------------------------------------------------------


def read(
    actor: Actor,
    agreement: Any,
    purpose: Any,
    case_reference: Any,
    subject: Any,
    fields: Any,
    *,
    breakglass: Any = None,
) -> AccessResult:
    """Read `fields` of the records about `subject` under `agreement` for `purpose`; see the module docstring.

    Returns AccessResult once the access is logged and committed. Raises AccessRefused (code, status, message,
    the refused fields) after logging the refusal; any other exception (the log could not be written) means
    nothing was read and nothing is returned. With `breakglass` (a BreakGlassSession or its id) it is an
    emergency read: `agreement` and `purpose` are ignored (see the module docstring).
    """
    emergency = breakglass is not None
    attempt = _Attempt(actor, None if emergency else agreement, subject, purpose, fields, case_reference)
    try:
        if emergency:
            _check_breakglass(attempt, breakglass)
        else:
            _check(attempt)
    except _Refusal as refusal:
        with transaction():
            refused = _log_refusal(attempt, refusal)
        raise refused from None
    return _grant_breakglass(attempt) if emergency else _grant(attempt)


def _check(attempt: _Attempt) -> None:
    _check_agreement(attempt)
    agreement = attempt.agreement
    assert agreement is not None
    attempt.admitted = _admitted(attempt.actor, agreement)
    if not attempt.admitted:
        raise _Refusal("wrong_department", _("Sie lesen nicht für das Amt, für das diese Vereinbarung gilt."))
    _check_subject(attempt)
    _check_purpose(attempt)
    _check_fields(attempt)
    _check_case_reference(attempt)
    _check_citizen_request(attempt)


def _check_agreement(attempt: _Attempt) -> None:
    asked = attempt.asked_agreement
    if asked is None or (isinstance(asked, str) and not asked.strip()):
        raise _Refusal("agreement_required", _("Geben Sie die Vereinbarung an, auf die sich der Abruf stützt."))
    agreement = agreements.resolve(asked)
    if agreement is None:
        raise _Refusal("no_agreement", _("Diese Datenzugriffsvereinbarung gibt es nicht."))
    attempt.agreement = agreement
    status = agreement.status_on(to_berlin(utcnow()).date())
    if status in (AgreementState.DRAFT, AgreementState.SUBMITTED, AgreementState.REJECTED):
        raise _Refusal("not_approved", _("Diese Vereinbarung ist nicht freigegeben."))
    if status == AgreementState.REVOKED:
        raise _Refusal("revoked", _("Diese Vereinbarung wurde widerrufen."))
    if status == AgreementState.SUPERSEDED:
        raise _Refusal("superseded", _("Diese Version der Vereinbarung ist durch eine neuere ersetzt."))
    if status == "not_in_force":
        raise _Refusal(
            "not_in_force",
            _("Diese Vereinbarung gilt erst ab dem %(day)s.", day=agreement.valid_from.strftime("%d.%m.%Y")),
        )
    if status == "expired":
        raise _Refusal(
            "expired", _("Diese Vereinbarung ist am %(day)s abgelaufen.", day=agreement.valid_to.strftime("%d.%m.%Y"))
        )


def _admitted(actor: Actor, agreement: AccessAgreement) -> bool:
    """Whether the actor reads for the agreement's consuming department."""
    consumer = agreement.consumer_department_id
    if actor.token is not None:
        if SCOPE not in actor.scopes:
            return False
        binding = binding_of(actor.token.id)
        if binding is None:
            # A staff member's personal token reads as that person would.
            return actor.user is not None and member_of(actor, consumer)
        return binding.department_id == consumer and binding.agreement_reference in (None, agreement.reference)
    return actor.kind == "user" and member_of(actor, consumer)


def _check_subject(attempt: _Attempt) -> None:
    dataset = attempt.dataset
    assert dataset is not None
    try:
        subject = parse_subject(attempt.raw_subject, dataset.subject_kind)
    except DataAccessError as error:
        raise _Refusal("invalid_subject", error.message) from None
    if subject.user_id is not None and db.session.get(User, subject.user_id) is None:
        raise _Refusal("unknown_subject", _("Dieses Bürgerkonto gibt es nicht."))
    attempt.subject = subject


def _check_purpose(attempt: _Attempt) -> None:
    agreement = attempt.agreement
    assert agreement is not None
    raw = attempt.raw_purpose
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise _Refusal("purpose_required", _("Geben Sie den Zweck des Abrufs an."))
    if not isinstance(raw, str):
        raise _Refusal("invalid_input", _("Geben Sie den Zweck als Code an, z. B. BAU-PRUEF."), field="purpose")
    code = raw.strip().upper()
    attempt.purpose_code = loggable(code, 40)
    attempt.purpose = db.session.scalar(sa.select(Purpose).where(Purpose.code == code)) if len(code) <= 40 else None
    if code not in agreement.purposes or attempt.purpose is None:
        raise _Refusal(
            "purpose_not_allowed",
            _("Für den Zweck %(code)s erlaubt die Vereinbarung keinen Abruf.", code=attempt.purpose_code),
        )


def _check_fields(attempt: _Attempt) -> None:
    agreement, dataset = attempt.agreement, attempt.dataset
    assert dataset is not None
    # Break-glass has no agreement: any field the dataset has may be read, and each one read is logged.
    allowed = agreement.fields if agreement is not None else dataset.field_names
    raw = attempt.raw_fields
    if raw is None or (isinstance(raw, list | tuple) and not raw):
        raise _Refusal("fields_required", _("Geben Sie an, welche Felder Sie brauchen."))
    if isinstance(raw, str) or not isinstance(raw, list | tuple) or not all(isinstance(f, str) for f in raw):
        raise _Refusal("invalid_input", _("Geben Sie die Felder als Liste von Namen an."), field="fields")
    if len(raw) > FIELDS_MAX:
        raise _Refusal("invalid_input", _("Zu viele Felder."), field="fields")
    attempt.fields = list(dict.fromkeys(f.strip() for f in raw if f.strip()))
    if not attempt.fields:
        raise _Refusal("fields_required", _("Geben Sie an, welche Felder Sie brauchen."))
    refused = [f for f in attempt.fields if f not in allowed]
    if refused:
        shown = [loggable(f, 64) or "?" for f in refused]
        raise _Refusal(
            "field_not_allowed",
            _("Diese Felder erlaubt die Vereinbarung nicht: %(fields)s", fields=", ".join(shown)),
            fields=shown,
        )


def _check_case_reference(attempt: _Attempt) -> None:
    agreement = attempt.agreement
    required = agreement.requires_case_reference if agreement is not None else False
    raw = attempt.raw_case_reference
    if raw is not None and not isinstance(raw, str):
        raise _Refusal("invalid_input", _("Geben Sie das Aktenzeichen als Text an."), field="case_reference")
    text = " ".join((raw or "").split())
    if len(text) > CASE_REFERENCE_MAX or not text.isprintable():
        raise _Refusal(
            "invalid_input",
            _("Geben Sie ein Aktenzeichen mit höchstens %(n)s Zeichen an.", n=CASE_REFERENCE_MAX),
            field="case_reference",
        )
    attempt.case_reference = text or None
    if attempt.case_reference is None and attempt.breakglass is not None:
        attempt.case_reference = attempt.breakglass.case_reference
    # Machine clients name the case on every call: their log entries must say what they were for.
    if attempt.case_reference is None and (required or attempt.actor.token is not None):
        raise _Refusal("case_reference_required", _("Geben Sie das Aktenzeichen des Vorgangs an, für den Sie lesen."))


def _check_citizen_request(attempt: _Attempt) -> None:
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
        raise _Refusal("citizen_request_missing", _("Die betroffene Person hat diesen Abruf nicht beantragt."))
    attempt.citizen_request = found


def _check_breakglass(attempt: _Attempt, asked: Any) -> None:
    session: BreakGlassSession | None = None
    if isinstance(asked, BreakGlassSession):
        session = db.session.get(BreakGlassSession, asked.id)
    elif isinstance(asked, int) and not isinstance(asked, bool) and 0 < asked < 2**31:
        session = db.session.get(BreakGlassSession, asked)
    if session is None:
        raise _Refusal("breakglass_unknown", _("Diesen Notfallzugriff gibt es nicht."), field="breakglass")
    attempt.breakglass = session
    actor = attempt.actor
    if actor.token is not None or actor.user is None or actor.user.id != session.user_id:
        raise _Refusal(
            "breakglass_not_yours", _("Diesen Notfallzugriff hat eine andere Person geöffnet."), field="breakglass"
        )
    if not member_of(actor, session.consumer_department_id):
        raise _Refusal("wrong_department", _("Sie gehören nicht mehr zu dem Amt, für das Sie lesen wollten."))
    attempt.admitted = True
    attempt.purpose_code = breakglass.PURPOSE_CODE
    if not session.is_active(utcnow()):
        raise _Refusal(
            "breakglass_expired",
            _("Dieser Notfallzugriff ist abgelaufen oder beendet. Öffnen Sie bei Bedarf einen neuen."),
            field="breakglass",
        )
    _check_subject(attempt)
    _check_fields(attempt)
    _check_case_reference(attempt)


# --- granting -------------------------------------------------------------------------------------------------


def _lock_chain() -> None:
    """Take the audit chain's transaction lock now (audit.record takes it too, later): see the module docstring."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})


def _retry_after(attempt: _Attempt) -> int | None:
    """Seconds until the official (or client) may read again under this agreement; None if within the limit."""
    agreement, actor = attempt.agreement, attempt.actor
    assert agreement is not None
    now = utcnow()
    if actor.token is not None:
        whose = AccessLog.actor_token_id == actor.token.id
    elif actor.user is not None:
        whose = AccessLog.actor_user_id == actor.user.id
    else:
        return None  # never reached: only people and clients are admitted
    row = db.session.execute(
        sa.select(sa.func.count(AccessLog.id), sa.func.min(AccessLog.occurred_at)).where(
            whose,
            AccessLog.agreement_reference == agreement.reference,
            AccessLog.outcome == AccessOutcome.GRANTED.value,
            AccessLog.occurred_at > now - RATE_WINDOW,
        )
    ).one()
    if row[0] < agreement.rate_limit_per_hour:
        return None
    oldest = as_utc(row[1]) if isinstance(row[1], datetime) else now
    return max(1, math.ceil((oldest + RATE_WINDOW - now).total_seconds()))


def _grant(attempt: _Attempt) -> AccessResult:
    agreement, dataset, subject = attempt.agreement, attempt.dataset, attempt.subject
    assert agreement is not None and dataset is not None and subject is not None and attempt.purpose is not None
    refused: AccessRefused | None = None
    with transaction():
        _lock_chain()
        retry_after = _retry_after(attempt)
        if retry_after is not None:
            refused = _log_refusal(
                attempt,
                _Refusal(
                    "rate_limited",
                    _("Zu viele Abrufe: höchstens %(n)s je Stunde.", n=agreement.rate_limit_per_hour),
                    retry_after=retry_after,
                ),
            )
        elif attempt.citizen_request is not None and not citizen_requests.use_request(attempt.citizen_request):
            refused = _log_refusal(
                attempt,
                _Refusal("citizen_request_missing", _("Die betroffene Person hat diesen Abruf nicht beantragt.")),
            )
        else:
            records = [{name: row.get(name) for name in attempt.fields} for row in fetch_records(dataset, subject)]
            consumer = agreement.consumer_department
            event = audit.record(
                "dataaccess.record_read",
                attempt.actor,
                target=agreement,
                subject_user_id=subject.user_id,
                purpose=attempt.purpose.label,
                legal_basis=agreement.legal_basis_citation,
                department_id=consumer.id,
                department=consumer.name,
                owner_department_id=dataset.department_id,
                agreement=agreement.reference,
                version=agreement.version,
                dataset=dataset.key,
                fields=attempt.fields,
                purpose_identifier=attempt.purpose_code,
                case_reference=attempt.case_reference,
                subject_reference=subject.reference,
                records=len(records),
                citizen_request=attempt.citizen_request.id if attempt.citizen_request is not None else None,
            )
            log = _log_row(attempt, event.seq, event.occurred_at, None, len(records))
            result = AccessResult(
                agreement=agreement.reference,
                version=agreement.version,
                dataset=dataset.key,
                subject=subject,
                purpose=attempt.purpose.code,
                case_reference=attempt.case_reference,
                fields=tuple(attempt.fields),
                records=records,
                log_id=log.id,
                audit_seq=event.seq,
                accessed_at=event.occurred_at,
            )
    if refused is not None:
        raise refused
    return result


def _grant_breakglass(attempt: _Attempt) -> AccessResult:
    session, dataset, subject = attempt.breakglass, attempt.dataset, attempt.subject
    assert session is not None and dataset is not None and subject is not None
    refused: AccessRefused | None = None
    with transaction():
        # Ended by the dpo's review or run out while the checks ran: nothing is read.
        db.session.refresh(session)
        if not session.is_active(utcnow()):
            refused = _log_refusal(
                attempt,
                _Refusal(
                    "breakglass_expired", _("Dieser Notfallzugriff ist abgelaufen oder beendet."), field="breakglass"
                ),
            )
        else:
            records = [{name: row.get(name) for name in attempt.fields} for row in fetch_records(dataset, subject)]
            consumer = session.consumer_department
            event = audit.record(
                "dataaccess.breakglass_read",
                attempt.actor,
                target=session,
                subject_user_id=subject.user_id,
                purpose=breakglass.purpose_text(session.category),
                legal_basis=breakglass.legal_basis(session.category),
                department_id=consumer.id,
                department=consumer.name,
                owner_department_id=dataset.department_id,
                breakglass=session.id,
                dataset=dataset.key,
                fields=attempt.fields,
                category=session.category,
                case_reference=attempt.case_reference,
                subject_reference=subject.reference,
                records=len(records),
            )
            log = _log_row(attempt, event.seq, event.occurred_at, None, len(records))
            result = AccessResult(
                agreement="",
                version=0,
                dataset=dataset.key,
                subject=subject,
                purpose=breakglass.PURPOSE_CODE,
                case_reference=attempt.case_reference,
                fields=tuple(attempt.fields),
                records=records,
                log_id=log.id,
                audit_seq=event.seq,
                accessed_at=event.occurred_at,
                breakglass=session.id,
            )
    if refused is not None:
        raise refused
    return result


# --- logging ------------------------------------------------------------------------------------------------


def _consumer_id(attempt: _Attempt) -> int | None:
    """The consuming department, once the actor is known to read for it."""
    if not attempt.admitted:
        return None
    if attempt.agreement is not None:
        return attempt.agreement.consumer_department_id
    return attempt.breakglass.consumer_department_id if attempt.breakglass is not None else None


def _legal_basis(attempt: _Attempt) -> str | None:
    if attempt.agreement is not None:
        return attempt.agreement.legal_basis_citation
    return breakglass.legal_basis(attempt.breakglass.category) if attempt.breakglass is not None else None


def _purpose_label(attempt: _Attempt) -> str | None:
    if attempt.purpose is not None:
        return attempt.purpose.label
    return breakglass.purpose_text(attempt.breakglass.category) if attempt.breakglass is not None else None


def _subject_for_log(attempt: _Attempt) -> tuple[int | None, str | None]:
    """(subject_user_id, subject_reference) as far as the attempt names one; a user id only if it exists."""
    if attempt.subject is not None:
        return attempt.subject.user_id, attempt.subject.reference
    raw = attempt.raw_subject
    kind = attempt.dataset.subject_kind if attempt.dataset is not None else None
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


def _requested_fields(attempt: _Attempt) -> list[str]:
    if attempt.fields:
        return attempt.fields
    raw = attempt.raw_fields
    if isinstance(raw, list | tuple):
        return [text for f in raw[:FIELDS_MAX] if (text := loggable(f, 64))]
    return []


def _log_row(
    attempt: _Attempt, audit_seq: int, occurred_at: datetime, refusal_code: str | None, record_count: int
) -> AccessLog:
    agreement, dataset, actor = attempt.agreement, attempt.dataset, attempt.actor
    subject_user_id, subject_reference = _subject_for_log(attempt)
    log = AccessLog(
        occurred_at=occurred_at,
        audit_seq=audit_seq,
        outcome=AccessOutcome.REFUSED.value if refusal_code else AccessOutcome.GRANTED.value,
        refusal_code=refusal_code,
        actor_kind=actor.kind,
        actor_user_id=actor.user.id if actor.user is not None else None,
        actor_token_id=actor.token.id if actor.token is not None else None,
        consumer_department_id=_consumer_id(attempt),
        owner_department_id=dataset.department_id if dataset is not None else None,
        agreement_id=agreement.id if agreement is not None else None,
        agreement_reference=agreement.reference if agreement is not None else loggable(attempt.asked_agreement, 40),
        agreement_version=agreement.version if agreement is not None else None,
        dataset_id=dataset.id if dataset is not None else None,
        subject_user_id=subject_user_id,
        subject_reference=subject_reference,
        fields=_requested_fields(attempt),
        record_count=record_count,
        purpose_code=attempt.purpose_code if attempt.purpose_code else loggable(attempt.raw_purpose, 40),
        purpose=_purpose_label(attempt),
        legal_basis=_legal_basis(attempt),
        case_reference=attempt.case_reference or loggable(attempt.raw_case_reference, CASE_REFERENCE_MAX),
        breakglass_id=attempt.breakglass.id if attempt.breakglass is not None else None,
    )
    db.session.add(log)
    db.session.flush()
    return log


def _log_refusal(attempt: _Attempt, refusal: _Refusal) -> AccessRefused:
    """Write the refused attempt's audit event (outcome "denied") and log row; the error to raise after commit."""
    agreement, dataset = attempt.agreement, attempt.dataset
    subject_user_id, subject_reference = _subject_for_log(attempt)
    known: dict[str, Any] = {}
    if (purpose_label := _purpose_label(attempt)) is not None:
        known["purpose"] = purpose_label
    if (basis := _legal_basis(attempt)) is not None:
        known["legal_basis"] = basis
    if (consumer_id := _consumer_id(attempt)) is not None:
        known["department_id"] = consumer_id
        consumer = db.session.get(Department, consumer_id)
        if consumer is not None:
            known["department"] = consumer.name
    if attempt.breakglass is not None:
        known["breakglass"] = attempt.breakglass.id
    event = audit.record(
        "dataaccess.access_refused",
        attempt.actor,
        target=agreement if agreement is not None else attempt.breakglass,
        subject_user_id=subject_user_id,
        outcome="denied",
        reason=refusal.code,
        agreement=agreement.reference if agreement is not None else loggable(attempt.asked_agreement, 40),
        version=agreement.version if agreement is not None else None,
        dataset=dataset.key if dataset is not None else None,
        fields=_requested_fields(attempt),
        refused_fields=refusal.fields,
        purpose_identifier=attempt.purpose_code or loggable(attempt.raw_purpose, 40),
        case_reference=attempt.case_reference or loggable(attempt.raw_case_reference, CASE_REFERENCE_MAX),
        subject_reference=subject_reference,
        **known,
    )
    log = _log_row(attempt, event.seq, event.occurred_at, refusal.code, 0)
    return AccessRefused(
        field=refusal.field,
        message=refusal.message,
        code=refusal.code,
        status=REFUSAL_STATUS.get(refusal.code) or BREAKGLASS_REFUSAL_STATUS[refusal.code],
        fields=refusal.fields,
        log_id=log.id,
        audit_seq=event.seq,
        retry_after=refusal.retry_after,
    )


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
