"""The one function through which every read of another department's data goes: `read`.

    result = read(actor, "DZV-2026-000001", "BAU-PRUEF", "BA-2026-0042", citizen.id, ["aktenzeichen", "status"])
    result.records        # [{"aktenzeichen": ..., "status": ...}, ...]: only these fields, only this subject

It checks, in this order, and refuses with the first rule that fails (code → HTTP status in
dataaccess.errors.REFUSAL_STATUS; the rules live in dataaccess.services.access_checks, except the rate limit
and the use of a citizen's request, which are checked here, after the records are read and before the access is
logged):

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
                                              agreement in the last hour stay below its limit (counted in
                                              whole minutes: dataaccess.services.rate_limit)

A granted access returns only the allowed fields asked for and writes its access-log row and audit event
(PURPOSE, LEGAL_BASIS, DEPARTMENT_ID, subject_user_id) in the same transaction as the read: if writing them
fails, the transaction rolls back and the caller gets the exception, never the data. A refusal is logged the
same way (log row outcome "refused", audit outcome "denied") and then raised as AccessRefused.

Everything is one database transaction, in an order that keeps the locks short: the checks and the records
(reads only), then the reader's rate counter (dataaccess.services.rate_limit: a row lock that only this
official's or client's other accesses under the agreement wait for, which makes the limit exact on PostgreSQL),
the citizen's request, and last the audit event and the log row. For a high limit most accesses skip the counter
row: their worker spends an allowance it reserved in a batch (see dataaccess.services.rate_limit for how exact
the limit then is). The event is only queued (audit.record): the log row names it by its key, and the audit
sequencer gives it its seq right after the commit, so an access never waits for the audit chain's lock and holds
its reader's counter row (when it takes it) for three or four statements and the commit. On PostgreSQL the
event's queue row and the log row are one statement (a data-modifying CTE, _write_event_and_log).

Break-glass (`read(..., breakglass=session_id)`, see dataaccess.services.breakglass): an emergency read without
an agreement. Checked instead: breakglass_unknown (the session exists), breakglass_not_yours (the person
opened it), wrong_department (still belongs to its consuming department), breakglass_expired (not ended, time
box not run out), then the subject and the fields (any field of the session's dataset). The purpose is the
session's category, the case reference optional (the session's by default), no rate limit. Logged like any
access, with the log row's `breakglass_id` set and the audit action "dataaccess.breakglass_read".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import REFUSAL_STATUS, AccessRefused
from dataaccess.models import AccessAgreement, AccessLog, AccessOutcome
from dataaccess.services import breakglass, citizen_requests, rate_limit
from dataaccess.services.access_checks import Attempt, Refusal, check, check_breakglass
from dataaccess.services.records import Subject, fetch_records
from portal.actors import Actor
from portal.audit import services as audit
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

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
    audit_event: str  # the audit event's key; its seq is given after the commit (see audit_seq())
    accessed_at: datetime
    breakglass: int | None = None  # the emergency access it was read in (agreement "" and version 0 then)

    def audit_seq(self) -> int | None:
        """The audit event's place in the chain, once the sequencer has chained it (None until then)."""
        return event_seq(self.audit_event)


def event_seq(event_key: str | None) -> int | None:
    if event_key is None:
        return None
    return db.session.scalar(sa.select(AuditEvent.seq).where(AuditEvent.event_key == event_key))


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
    attempt = Attempt(actor, None if emergency else agreement, subject, purpose, fields, case_reference, now=utcnow())
    try:
        if emergency:
            check_breakglass(attempt, breakglass)
        else:
            check(attempt)
    except Refusal as refusal:
        with transaction():
            refused = _log_refusal(attempt, refusal)
        raise refused from None
    refused_now: AccessRefused | None = None
    admitted: list[rate_limit.Admission] = []  # the rate limit's admission, settled once the transaction ended
    try:
        with transaction():
            records = _records(attempt)  # read before any lock is taken; returned only once the access is logged
            last = _last_check(attempt, admitted)
            if last is None:
                result = _deliver(attempt, records)
            else:
                refused_now = _log_refusal(attempt, last)
    except BaseException:
        for admission in admitted:
            admission.settle(granted=False, committed=False)
        raise
    for admission in admitted:
        admission.settle(granted=refused_now is None, committed=True)
    if refused_now is not None:
        raise refused_now
    return result


# --- granting -------------------------------------------------------------------------------------------------


def _records(attempt: Attempt) -> list[dict[str, Any]]:
    """The records about the subject, each cut to the fields asked for (all of them allowed by now)."""
    dataset, subject = attempt.dataset, attempt.subject
    assert dataset is not None and subject is not None
    return [{name: row.get(name) for name in attempt.fields} for row in fetch_records(dataset, subject)]


def _last_check(attempt: Attempt, admitted: list[rate_limit.Admission]) -> Refusal | None:
    """The rules that hold the reader's counter or use up a request, checked last: why it must not, or None.

    A granted access is counted here, in the read's transaction, or spends an allowance its worker reserved
    earlier (rate_limit.admit, appended to `admitted` for the caller to settle): a refusal (or a failure later
    on) uses up nothing.
    """
    session = attempt.breakglass
    if session is not None:
        # Ended by the dpo's review or run out while the checks ran: nothing is returned.
        db.session.refresh(session)
        if not session.is_active(utcnow()):
            return Refusal(
                "breakglass_expired", _("Dieser Notfallzugriff ist abgelaufen oder beendet."), field="breakglass"
            )
        return None
    agreement = attempt.agreement
    assert agreement is not None
    reader = rate_limit.reader_of(attempt.actor)
    assert reader is not None  # only people and clients are admitted
    admission = rate_limit.admit(agreement.reference, reader, agreement.rate_limit_per_hour)
    admitted.append(admission)
    retry_after = admission.retry_after
    if retry_after is not None:
        return Refusal(
            "rate_limited",
            _("Zu viele Abrufe: höchstens %(n)s je Stunde.", n=agreement.rate_limit_per_hour),
            retry_after=retry_after,
        )
    if attempt.citizen_request is not None and not citizen_requests.use_request(attempt.citizen_request):
        return Refusal("citizen_request_missing", _("Die betroffene Person hat diesen Abruf nicht beantragt."))
    admission.use()
    return None


def _deliver(attempt: Attempt, records: list[dict[str, Any]]) -> AccessResult:
    """Write the access's audit event and log row (in the caller's transaction), the last statements before its
    commit. The event is queued and chained after the commit; the log row names it by its key."""
    agreement, session, dataset, subject = attempt.agreement, attempt.breakglass, attempt.dataset, attempt.subject
    assert dataset is not None and subject is not None and attempt.consumer_id is not None
    if agreement is not None:
        assert attempt.purpose is not None
        action = "dataaccess.record_read"
        purpose_code = attempt.purpose.code
        details: dict[str, Any] = {
            "agreement": agreement.reference,
            "version": agreement.version,
            "purpose_identifier": attempt.purpose_code,
            "citizen_request": attempt.citizen_request.id if attempt.citizen_request is not None else None,
        }
    else:
        assert session is not None
        action = "dataaccess.breakglass_read"
        purpose_code = breakglass.PURPOSE_CODE
        details = {"breakglass": session.id, "category": session.category}
    event, log_id = _write_event_and_log(
        attempt,
        None,
        len(records),
        action,
        **_target(attempt),
        subject_user_id=subject.user_id,
        purpose=attempt.purpose_label,
        legal_basis=attempt.legal_basis,
        department_id=attempt.consumer_id,
        department=attempt.consumer_name,
        owner_department_id=dataset.department_id,
        dataset=dataset.key,
        fields=attempt.fields,
        case_reference=attempt.case_reference,
        subject_reference=subject.reference,
        records=len(records),
        **details,
    )
    return AccessResult(
        agreement=agreement.reference if agreement is not None else "",
        version=agreement.version if agreement is not None else 0,
        dataset=dataset.key,
        subject=subject,
        purpose=purpose_code,
        case_reference=attempt.case_reference,
        fields=tuple(attempt.fields),
        records=records,
        log_id=log_id,
        audit_event=event.event_key,
        accessed_at=event.occurred_at,
        breakglass=session.id if session is not None else None,
    )


# --- logging ------------------------------------------------------------------------------------------------

# Core, not the ORM: the log row is only written, never read back in the request (the unit of work cost more
# than the insert itself).
_INSERT_LOG = sa.insert(AccessLog).returning(AccessLog.id)
# On PostgreSQL the audit event's queue row goes with it: one round trip instead of two (see _write_event_and_log).
_QUEUE_AND_LOG = _INSERT_LOG.add_cte(audit.queue_cte())


def _write_event_and_log(
    attempt: Attempt, refusal_code: str | None, record_count: int, action: str, /, **event: Any
) -> tuple[audit.RecordedEvent, int]:
    """Write the access's audit event (audit.record's checks and row) and its log row; the event and the row's id.

    Where the audit allows it (PostgreSQL, the event chained after the commit), both rows are written by one
    statement, the queue row's INSERT as a CTE of the log row's: it succeeds or fails as a whole, in the
    caller's transaction like the two statements it replaces.
    """
    if not audit.writes_in_one_statement():
        recorded = audit.record(action, attempt.actor, **event)
        return recorded, _log_row(attempt, recorded, refusal_code, record_count)
    pending = audit.prepare(action, attempt.actor, **event)
    log_id = _log_row(attempt, pending.event, refusal_code, record_count, queue=pending)
    return audit.queued(pending), log_id


def _target(attempt: Attempt) -> dict[str, Any]:
    """The audit event's target: the agreement version (named, so that no flush is needed) or the session."""
    if attempt.agreement is not None:
        return {"target_type": AccessAgreement.__tablename__, "target_id": attempt.agreement.id}
    return {"target": attempt.breakglass}


def _log_row(
    attempt: Attempt,
    event: audit.RecordedEvent,
    refusal_code: str | None,
    record_count: int,
    *,
    queue: audit.PendingEvent | None = None,
) -> int:
    """Write the access-log row (and the event's queue row with it, if given); its id."""
    agreement, dataset, actor = attempt.agreement, attempt.dataset, attempt.actor
    subject_user_id, subject_reference = attempt.subject_for_log()
    row = {
        "occurred_at": event.occurred_at,
        "audit_event_key": event.event_key,
        "outcome": AccessOutcome.REFUSED.value if refusal_code else AccessOutcome.GRANTED.value,
        "refusal_code": refusal_code,
        "actor_kind": actor.kind,
        "actor_user_id": actor.user.id if actor.user is not None else None,
        "actor_token_id": actor.token.id if actor.token is not None else None,
        "consumer_department_id": attempt.consumer_id,
        "owner_department_id": dataset.department_id if dataset is not None else None,
        "agreement_id": agreement.id if agreement is not None else None,
        "agreement_reference": attempt.logged_agreement,
        "agreement_version": agreement.version if agreement is not None else None,
        "dataset_id": dataset.id if dataset is not None else None,
        "subject_user_id": subject_user_id,
        "subject_reference": subject_reference,
        "fields": attempt.requested_fields(),
        "record_count": record_count,
        "purpose_code": attempt.logged_purpose_code,
        "purpose": attempt.purpose_label,
        "legal_basis": attempt.legal_basis,
        "case_reference": attempt.logged_case_reference,
        "breakglass_id": attempt.breakglass.id if attempt.breakglass is not None else None,
    }
    if queue is None:
        return int(db.session.connection().execute(_INSERT_LOG, row).scalar_one())
    return int(db.session.connection().execute(_QUEUE_AND_LOG, {**row, **audit.queue_params(queue)}).scalar_one())


def _log_refusal(attempt: Attempt, refusal: Refusal) -> AccessRefused:
    """Write the refused attempt's audit event (outcome "denied") and log row; the error to raise after commit."""
    agreement, dataset = attempt.agreement, attempt.dataset
    subject_user_id, subject_reference = attempt.subject_for_log()
    known: dict[str, Any] = {}
    if (purpose_label := attempt.purpose_label) is not None:
        known["purpose"] = purpose_label
    if (basis := attempt.legal_basis) is not None:
        known["legal_basis"] = basis
    if (consumer_id := attempt.consumer_id) is not None:
        known["department_id"] = consumer_id
        if attempt.consumer_name is not None:
            known["department"] = attempt.consumer_name
    if attempt.breakglass is not None:
        known["breakglass"] = attempt.breakglass.id
    event, log_id = _write_event_and_log(
        attempt,
        refusal.code,
        0,
        "dataaccess.access_refused",
        **_target(attempt),
        subject_user_id=subject_user_id,
        outcome="denied",
        reason=refusal.code,
        agreement=attempt.logged_agreement,
        version=agreement.version if agreement is not None else None,
        dataset=dataset.key if dataset is not None else None,
        fields=attempt.requested_fields(),
        refused_fields=refusal.fields,
        purpose_identifier=attempt.logged_purpose_code,
        case_reference=attempt.logged_case_reference,
        subject_reference=subject_reference,
        **known,
    )
    return AccessRefused(
        field=refusal.field,
        message=refusal.message,
        code=refusal.code,
        status=REFUSAL_STATUS.get(refusal.code) or BREAKGLASS_REFUSAL_STATUS[refusal.code],
        fields=refusal.fields,
        log_id=log_id,
        audit_event=event.event_key,
        retry_after=refusal.retry_after,
    )
