"""Access agreements: written by the consuming department, approved by the owning department's data steward
AND the data protection officer, never edited once submitted.

The life of one version:

    draft ──submit──► submitted ──(steward ✓ and dpo ✓)──► approved ──► revoked
                          │                                    └──────► superseded (a later version approved)
                          └──(steward ✗ or dpo ✗)──► rejected

Submitting opens two requests of the core's four-eyes approvals in the same transaction: one of the kind
`dataaccess.agreement_steward` (decided by a data steward of the owning department) and one of the kind
`dataaccess.agreement_dpo` (decided by the dpo). Each approval stamps the version; the second one, in its own
deciding transaction, makes it approved and supersedes the version approved before it. The core refuses a
decision by the requester; the callbacks also refuse the draft's author and one person giving both approvals,
and the database's CHECK constraints say the same. A rejection by either ends the version as rejected and
closes the other request undecided; withdrawing one request makes the version a draft again and closes the
other (see agreement_approvals).

"Expired" and "not yet in force" are read from valid_from/valid_to (`AccessAgreement.status_on`), never stored.

This module holds the drafter's and the revoker's use cases. The terms and their checks live in
agreement_terms, the two approval kinds and their callbacks in agreement_approvals, finding versions in
agreement_versions; the names callers use (AgreementTerms, the kinds, resolve, versions) are importable here.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import DataAccessError
from dataaccess.models import AccessAgreement, AgreementState
from dataaccess.services.agreement_approvals import (  # re-exported: part of this module's contract
    DPO_KIND,
    STEWARD_KIND,
    register_kinds,  # noqa: F401  (dataaccess.register calls it)
)
from dataaccess.services.agreement_terms import (  # re-exported: part of this module's contract
    NOTE_MAX,
    RATE_LIMIT_MAX,  # noqa: F401  (the highest rate limit an agreement may set)
    AgreementTerms,
    apply_terms,
    checked_terms,
)
from dataaccess.services.agreement_versions import (  # resolve and versions are re-exported
    get_version,
    latest_version,
    lock_version,
    open_version,
    resolve,  # noqa: F401  (the version an access would use)
    versions,  # noqa: F401  (all versions of a reference, newest first)
)
from dataaccess.services.common import clean_long_text, is_dpo, is_person, is_steward_of, member_of, today
from portal.actors import Actor
from portal.approvals import services as approvals
from portal.audit import services as audit
from portal.extensions import db
from portal.references import next_reference
from portal.timeutil import utcnow
from portal.transaction import transaction

REFERENCE_PREFIX = "DZV"  # Datenzugriffsvereinbarung
# Who writes and submits an agreement for the consuming department.
DRAFTER_ROLES = ("department_admin", "data_steward")


# --- who may ----------------------------------------------------------------------------------------------


def may_draft(actor: Actor, consumer_department_id: int) -> bool:
    """A department admin or data steward of the consuming department, signed in in person."""
    return is_person(actor) and any(actor.has_role(role, consumer_department_id) for role in DRAFTER_ROLES)


def may_revoke(actor: Actor, agreement: AccessAgreement) -> bool:
    return is_dpo(actor) or is_steward_of(actor, agreement.dataset.department_id)


def may_see(actor: Actor, agreement: AccessAgreement) -> bool:
    """The consumer's and the owner's staff, and the dpo."""
    return (
        is_dpo(actor)
        or member_of(actor, agreement.consumer_department_id)
        or member_of(actor, agreement.dataset.department_id)
    )


# --- drafting ---------------------------------------------------------------------------------------------


def draft_agreement(actor: Actor, terms: AgreementTerms) -> AccessAgreement:
    """Write version 1 of a new agreement (a new DZV reference) as a draft for the consuming department."""
    if not may_draft(actor, terms.consumer_department_id):
        raise Forbidden()
    cleaned, _dataset, basis = checked_terms(terms)
    assert actor.user is not None
    with transaction():
        agreement = AccessAgreement(
            reference=next_reference(REFERENCE_PREFIX),
            version=1,
            state=AgreementState.DRAFT.value,
            created_by_id=actor.user.id,
        )
        apply_terms(agreement, cleaned, basis)
        db.session.add(agreement)
        audit.record("dataaccess.agreement_drafted", actor, target=agreement, reference=agreement.reference, version=1)
    return agreement


def update_draft(actor: Actor, agreement_id: int, terms: AgreementTerms) -> AccessAgreement:
    """Change a draft. A submitted version never changes: that is what `new_version` is for."""
    agreement = get_version(agreement_id)
    if not may_draft(actor, agreement.consumer_department_id):
        raise Forbidden()
    if agreement.version > 1 and _moves(agreement, terms):
        raise _fixed()
    if not may_draft(actor, terms.consumer_department_id):
        raise Forbidden()
    cleaned, _dataset, basis = checked_terms(terms)
    with transaction():
        agreement = lock_version(agreement_id)
        if agreement.state != AgreementState.DRAFT:
            raise _not_a_draft()
        apply_terms(agreement, cleaned, basis)
        audit.record(
            "dataaccess.agreement_changed",
            actor,
            target=agreement,
            reference=agreement.reference,
            version=agreement.version,
        )
    return agreement


def new_version(actor: Actor, agreement_id: int, terms: AgreementTerms | None = None) -> AccessAgreement:
    """A draft of the next version of the agreement `agreement_id` belongs to, starting from `terms` (by default
    the terms of its latest version). The version in force stays in force until the new one is approved."""
    base = get_version(agreement_id)
    if not may_draft(actor, base.consumer_department_id):
        raise Forbidden()
    terms = terms or AgreementTerms.of(latest_version(base.reference))
    if _moves(base, terms):
        raise _fixed()
    cleaned, _dataset, basis = checked_terms(terms)
    assert actor.user is not None
    with transaction():
        if open_version(base.reference) is not None:
            raise _version_open()
        agreement = AccessAgreement(
            reference=base.reference,
            version=latest_version(base.reference).version + 1,
            state=AgreementState.DRAFT.value,
            created_by_id=actor.user.id,
        )
        apply_terms(agreement, cleaned, basis)
        db.session.add(agreement)
        try:
            db.session.flush()
        except IntegrityError:
            # Another version of this reference was drafted a moment ago (the partial unique index).
            raise _version_open() from None
        audit.record(
            "dataaccess.agreement_drafted",
            actor,
            target=agreement,
            reference=agreement.reference,
            version=agreement.version,
        )
    return agreement


def _moves(agreement: AccessAgreement, terms: AgreementTerms) -> bool:
    """Whether the terms name another consumer or dataset than the agreement's versions have."""
    return terms.consumer_department_id != agreement.consumer_department_id or terms.dataset_id != agreement.dataset_id


def _fixed() -> DataAccessError:
    return DataAccessError(
        "dataset_id",
        _("Alle Versionen einer Vereinbarung gelten für dasselbe Amt und denselben Datenbestand."),
        "fixed",
    )


def _not_a_draft() -> DataAccessError:
    return DataAccessError(
        "agreement",
        _("Eingereichte Vereinbarungen werden nicht geändert. Legen Sie eine neue Version an."),
        "not_a_draft",
        409,
    )


def _version_open() -> DataAccessError:
    return DataAccessError(
        "agreement",
        _("Von dieser Vereinbarung gibt es schon einen Entwurf oder eine eingereichte Version."),
        "version_open",
        409,
    )


# --- submitting (the two approvals: agreement_approvals) ------------------------------------------------------


def submit(actor: Actor, agreement_id: int, reason: str = "") -> AccessAgreement:
    """Submit a draft: it can no longer change, and the owning department's data steward and the dpo are asked
    (two approval requests, committed together with the state change). The submitter is the requester, whom
    neither approval may come from."""
    agreement = get_version(agreement_id)
    if not may_draft(actor, agreement.consumer_department_id):
        raise Forbidden()
    reason_text = clean_long_text(reason, "reason", NOTE_MAX) or agreement.note or _("Neue Datenzugriffsvereinbarung")
    assert actor.user is not None
    with transaction():
        agreement = lock_version(agreement_id)
        if agreement.state != AgreementState.DRAFT:
            raise _not_a_draft()
        # The catalogue may have changed since the draft was written (a purpose retired, a field renamed).
        cleaned, dataset, basis = checked_terms(AgreementTerms.of(agreement))
        if cleaned.valid_to < today():
            raise DataAccessError("valid_to", _("Die Geltung ist bereits abgelaufen."), "already_expired")
        apply_terms(agreement, cleaned, basis)
        agreement.state = AgreementState.SUBMITTED.value
        agreement.requested_by_id = actor.user.id
        agreement.submitted_at = utcnow()
        payload = {"reference": agreement.reference, "version": agreement.version}
        try:
            steward = approvals.create_request(
                actor, STEWARD_KIND, agreement, payload, reason_text, department_id=dataset.department_id
            )
            dpo = approvals.create_request(actor, DPO_KIND, agreement, payload, reason_text)
        except approvals.ApprovalError as error:
            raise DataAccessError("agreement", str(error.message), error.code, 409) from None
        agreement.steward_approval_id, agreement.dpo_approval_id = steward.id, dpo.id
        audit.record(
            "dataaccess.agreement_submitted",
            actor,
            target=agreement,
            reference=agreement.reference,
            version=agreement.version,
            steward_approval=steward.reference,
            dpo_approval=dpo.reference,
        )
    return agreement


# --- revoking -------------------------------------------------------------------------------------------------


def revoke(actor: Actor, agreement_id: int, reason: str) -> AccessAgreement:
    """End an approved version at once (also one past its end date). The dpo or the owning data steward."""
    agreement = get_version(agreement_id)
    if not may_revoke(actor, agreement):
        raise Forbidden()
    reason_text = clean_long_text(reason, "reason", NOTE_MAX, required=True)
    assert actor.user is not None
    with transaction():
        agreement = lock_version(agreement_id)
        if agreement.state != AgreementState.APPROVED:
            raise DataAccessError(
                "agreement", _("Nur eine freigegebene Vereinbarung kann widerrufen werden."), "not_approved", 409
            )
        agreement.state = AgreementState.REVOKED.value
        agreement.ended_at = utcnow()
        agreement.ended_by_id = actor.user.id
        agreement.end_reason = reason_text
        audit.record(
            "dataaccess.agreement_revoked",
            actor,
            target=agreement,
            reference=agreement.reference,
            version=agreement.version,
            reason=reason_text,
        )
    return agreement
