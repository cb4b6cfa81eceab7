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
and the database's CHECK constraints say the same. A rejection by either ends the version as rejected; the
other request can then only be rejected too (approving it is refused with "agreement_closed").

"Expired" and "not yet in force" are read from valid_from/valid_to (`AccessAgreement.status_on`), never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden, NotFound

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import DataAccessError
from dataaccess.models import AccessAgreement, AgreementState, Dataset, LegalBasis, Purpose, SubjectKind
from dataaccess.services.common import (
    DPO_ROLE,
    STEWARD_ROLE,
    clean_int,
    clean_long_text,
    is_dpo,
    is_person,
    is_steward_of,
    member_of,
    today,
)
from portal.actors import Actor
from portal.approvals import services as approvals
from portal.approvals.models import ApprovalRequest
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.references import next_reference, parse_reference
from portal.timeutil import utcnow
from portal.transaction import transaction

REFERENCE_PREFIX = "DZV"  # Datenzugriffsvereinbarung
STEWARD_KIND = "dataaccess.agreement_steward"
DPO_KIND = "dataaccess.agreement_dpo"
# Who writes and submits an agreement for the consuming department.
DRAFTER_ROLES = ("department_admin", "data_steward")
NOTE_MAX = 2000
RATE_LIMIT_MAX = 100_000


@dataclass(frozen=True)
class AgreementTerms:
    """What a version of an agreement says. The same consumer and dataset hold for all versions of a reference."""

    consumer_department_id: int
    dataset_id: int
    fields: list[str]
    purposes: list[str]
    legal_basis_id: int
    valid_from: date
    valid_to: date
    requires_case_reference: bool = True
    requires_citizen_request: bool = False
    rate_limit_per_hour: int = 60
    note: str = ""

    @classmethod
    def of(cls, agreement: AccessAgreement) -> AgreementTerms:
        return cls(
            consumer_department_id=agreement.consumer_department_id,
            dataset_id=agreement.dataset_id,
            fields=list(agreement.fields),
            purposes=list(agreement.purposes),
            legal_basis_id=agreement.legal_basis_id,
            valid_from=agreement.valid_from,
            valid_to=agreement.valid_to,
            requires_case_reference=agreement.requires_case_reference,
            requires_citizen_request=agreement.requires_citizen_request,
            rate_limit_per_hour=agreement.rate_limit_per_hour,
            note=agreement.note,
        )

    def changed(self, **changes: Any) -> AgreementTerms:
        return replace(self, **changes)


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


# --- terms ------------------------------------------------------------------------------------------------


def _names(values: Any, field: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise DataAccessError(field, _("Wählen Sie mindestens einen Eintrag."), "invalid_input")
    names = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not names:
        raise DataAccessError(field, _("Wählen Sie mindestens einen Eintrag."), "required")
    return names


def _checked(terms: AgreementTerms) -> tuple[AgreementTerms, Dataset, LegalBasis]:
    """The terms, cleaned, with their dataset and legal basis; DataAccessError naming the field otherwise."""
    department = (
        db.session.get(Department, terms.consumer_department_id)
        if isinstance(terms.consumer_department_id, int)
        else None
    )
    if department is None:
        raise DataAccessError("consumer_department_id", _("Dieses Amt gibt es nicht."), "unknown_department")
    dataset = db.session.get(Dataset, terms.dataset_id) if isinstance(terms.dataset_id, int) else None
    if dataset is None or not dataset.active:
        raise DataAccessError("dataset_id", _("Diesen Datenbestand gibt es nicht."), "unknown_dataset")
    if dataset.department_id == department.id:
        raise DataAccessError(
            "consumer_department_id",
            _("Ein Amt braucht für seine eigenen Daten keine Vereinbarung."),
            "same_department",
        )
    fields = _names(terms.fields, "fields")
    unknown = [f for f in fields if f not in dataset.field_names]
    if unknown:
        raise DataAccessError(
            "fields", _("Diese Felder hat der Datenbestand nicht: %(f)s", f=", ".join(unknown)), "unknown_field"
        )
    codes = [c.upper() for c in _names(terms.purposes, "purposes")]
    known = set(db.session.scalars(sa.select(Purpose.code).where(Purpose.code.in_(codes), Purpose.active.is_(True))))
    if missing := [c for c in codes if c not in known]:
        raise DataAccessError(
            "purposes", _("Diese Zwecke stehen nicht im Katalog: %(p)s", p=", ".join(missing)), "unknown_purpose"
        )
    basis = db.session.get(LegalBasis, terms.legal_basis_id) if isinstance(terms.legal_basis_id, int) else None
    if basis is None or not basis.active:
        raise DataAccessError("legal_basis_id", _("Wählen Sie eine Rechtsgrundlage aus dem Katalog."), "unknown_basis")
    if not isinstance(terms.valid_from, date) or not isinstance(terms.valid_to, date):
        raise DataAccessError("valid_from", _("Geben Sie Beginn und Ende der Geltung an."), "invalid_input")
    if terms.valid_to < terms.valid_from:
        raise DataAccessError("valid_to", _("Das Ende liegt vor dem Beginn."), "bad_period")
    if terms.requires_citizen_request and dataset.subject_kind != SubjectKind.CITIZEN:
        raise DataAccessError(
            "requires_citizen_request",
            _("Einen Antrag der Person gibt es nur bei Daten zu einem Bürgerkonto."),
            "citizen_request_impossible",
        )
    cleaned = terms.changed(
        fields=fields,
        purposes=codes,
        rate_limit_per_hour=clean_int(terms.rate_limit_per_hour, "rate_limit_per_hour", 1, RATE_LIMIT_MAX),
        note=clean_long_text(terms.note, "note", NOTE_MAX),
        requires_case_reference=bool(terms.requires_case_reference),
        requires_citizen_request=bool(terms.requires_citizen_request),
    )
    return cleaned, dataset, basis


def _apply(agreement: AccessAgreement, terms: AgreementTerms, basis: LegalBasis) -> None:
    agreement.consumer_department_id = terms.consumer_department_id
    agreement.dataset_id = terms.dataset_id
    agreement.fields = list(terms.fields)
    agreement.purposes = list(terms.purposes)
    agreement.legal_basis_id = basis.id
    agreement.legal_basis_citation = basis.citation
    agreement.valid_from = terms.valid_from
    agreement.valid_to = terms.valid_to
    agreement.requires_case_reference = terms.requires_case_reference
    agreement.requires_citizen_request = terms.requires_citizen_request
    agreement.rate_limit_per_hour = terms.rate_limit_per_hour
    agreement.note = terms.note


# --- drafting ---------------------------------------------------------------------------------------------


def draft_agreement(actor: Actor, terms: AgreementTerms) -> AccessAgreement:
    """Write version 1 of a new agreement (a new DZV reference) as a draft for the consuming department."""
    if not may_draft(actor, terms.consumer_department_id):
        raise Forbidden()
    cleaned, _dataset, basis = _checked(terms)
    assert actor.user is not None
    with transaction():
        agreement = AccessAgreement(
            reference=next_reference(REFERENCE_PREFIX),
            version=1,
            state=AgreementState.DRAFT.value,
            created_by_id=actor.user.id,
        )
        _apply(agreement, cleaned, basis)
        db.session.add(agreement)
        audit.record("dataaccess.agreement_drafted", actor, target=agreement, reference=agreement.reference, version=1)
    return agreement


def _get(agreement_id: int) -> AccessAgreement:
    agreement = db.session.get(AccessAgreement, agreement_id)
    if agreement is None:
        raise NotFound()
    return agreement


def _lock(agreement_id: int) -> AccessAgreement:
    agreement = db.session.scalar(
        sa.select(AccessAgreement)
        .where(AccessAgreement.id == agreement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if agreement is None:
        raise NotFound()
    return agreement


def _not_a_draft() -> DataAccessError:
    return DataAccessError(
        "agreement",
        _("Eingereichte Vereinbarungen werden nicht geändert. Legen Sie eine neue Version an."),
        "not_a_draft",
        409,
    )


def update_draft(actor: Actor, agreement_id: int, terms: AgreementTerms) -> AccessAgreement:
    """Change a draft. A submitted version never changes: that is what `new_version` is for."""
    agreement = _get(agreement_id)
    if not may_draft(actor, agreement.consumer_department_id):
        raise Forbidden()
    if agreement.version > 1 and (
        terms.consumer_department_id != agreement.consumer_department_id or terms.dataset_id != agreement.dataset_id
    ):
        raise DataAccessError(
            "dataset_id",
            _("Alle Versionen einer Vereinbarung gelten für dasselbe Amt und denselben Datenbestand."),
            "fixed",
        )
    if not may_draft(actor, terms.consumer_department_id):
        raise Forbidden()
    cleaned, _dataset, basis = _checked(terms)
    with transaction():
        agreement = _lock(agreement_id)
        if agreement.state != AgreementState.DRAFT:
            raise _not_a_draft()
        _apply(agreement, cleaned, basis)
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
    base = _get(agreement_id)
    if not may_draft(actor, base.consumer_department_id):
        raise Forbidden()
    latest = _latest(base.reference)
    terms = terms or AgreementTerms.of(latest)
    if terms.consumer_department_id != base.consumer_department_id or terms.dataset_id != base.dataset_id:
        raise DataAccessError(
            "dataset_id",
            _("Alle Versionen einer Vereinbarung gelten für dasselbe Amt und denselben Datenbestand."),
            "fixed",
        )
    cleaned, _dataset, basis = _checked(terms)
    assert actor.user is not None
    with transaction():
        if _open_version(base.reference) is not None:
            raise _version_open()
        agreement = AccessAgreement(
            reference=base.reference,
            version=_latest(base.reference).version + 1,
            state=AgreementState.DRAFT.value,
            created_by_id=actor.user.id,
        )
        _apply(agreement, cleaned, basis)
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


def _version_open() -> DataAccessError:
    return DataAccessError(
        "agreement",
        _("Von dieser Vereinbarung gibt es schon einen Entwurf oder eine eingereichte Version."),
        "version_open",
        409,
    )


def _latest(reference: str) -> AccessAgreement:
    found = db.session.scalar(
        sa.select(AccessAgreement)
        .where(AccessAgreement.reference == reference)
        .order_by(AccessAgreement.version.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound()
    return found


def _open_version(reference: str) -> AccessAgreement | None:
    return db.session.scalar(
        sa.select(AccessAgreement).where(
            AccessAgreement.reference == reference,
            AccessAgreement.state.in_((AgreementState.DRAFT.value, AgreementState.SUBMITTED.value)),
        )
    )


# --- submitting and the two approvals ------------------------------------------------------------------------


def submit(actor: Actor, agreement_id: int, reason: str = "") -> AccessAgreement:
    """Submit a draft: it can no longer change, and the owning department's data steward and the dpo are asked
    (two approval requests, committed together with the state change). The submitter is the requester, whom
    neither approval may come from."""
    agreement = _get(agreement_id)
    if not may_draft(actor, agreement.consumer_department_id):
        raise Forbidden()
    reason_text = clean_long_text(reason, "reason", NOTE_MAX) or agreement.note or _("Neue Datenzugriffsvereinbarung")
    assert actor.user is not None
    with transaction():
        agreement = _lock(agreement_id)
        if agreement.state != AgreementState.DRAFT:
            raise _not_a_draft()
        # The catalogue may have changed since the draft was written (a purpose retired, a field renamed).
        cleaned, dataset, basis = _checked(AgreementTerms.of(agreement))
        if cleaned.valid_to < today():
            raise DataAccessError("valid_to", _("Die Geltung ist bereits abgelaufen."), "already_expired")
        _apply(agreement, cleaned, basis)
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


def _closed() -> approvals.ApprovalError:
    return approvals.ApprovalError(
        _l("Diese Vereinbarung wurde bereits abgelehnt oder zurückgezogen. Lehnen Sie die Freigabe ebenfalls ab."),
        "agreement_closed",
    )


def _on_approved(role: str) -> Callable[[Actor, ApprovalRequest], None]:
    def on_approved(actor: Actor, request: ApprovalRequest) -> None:
        assert actor.user is not None  # the core lets only people decide
        agreement = _lock(int(request.subject_id))
        if agreement.state != AgreementState.SUBMITTED:
            raise _closed()
        if actor.user.id == agreement.created_by_id:
            raise approvals.ApprovalError(
                _l("Sie haben diese Vereinbarung selbst verfasst. Eine andere Person muss entscheiden."), "own_request"
            )
        other_by = agreement.dpo_approved_by_id if role == STEWARD_ROLE else agreement.steward_approved_by_id
        if other_by == actor.user.id:
            raise approvals.ApprovalError(
                _l("Sie haben die andere Freigabe dieser Vereinbarung schon erteilt; zwei Personen müssen zustimmen."),
                "two_approvers",
            )
        now = utcnow()
        if role == STEWARD_ROLE:
            agreement.steward_approved_by_id, agreement.steward_approved_at = actor.user.id, now
        else:
            agreement.dpo_approved_by_id, agreement.dpo_approved_at = actor.user.id, now
        if agreement.steward_approved_at is None or agreement.dpo_approved_at is None:
            audit.record(
                "dataaccess.agreement_approval_recorded",
                actor,
                target=agreement,
                reference=agreement.reference,
                version=agreement.version,
                role=role,
            )
            return
        superseded = _supersede_in_force(agreement, now)
        agreement.state = AgreementState.APPROVED.value
        agreement.approved_at = now
        audit.record(
            "dataaccess.agreement_approved",
            actor,
            target=agreement,
            reference=agreement.reference,
            version=agreement.version,
            superseded_version=superseded,
            role=role,
        )

    return on_approved


def _supersede_in_force(agreement: AccessAgreement, now: datetime) -> int | None:
    """End the version approved before this one (if any); flushed before this one becomes approved, as at most
    one version of a reference may be approved at a time."""
    previous = db.session.scalar(
        sa.select(AccessAgreement)
        .where(
            AccessAgreement.reference == agreement.reference,
            AccessAgreement.state == AgreementState.APPROVED.value,
            AccessAgreement.id != agreement.id,
        )
        .with_for_update()
    )
    if previous is None:
        return None
    previous.state = AgreementState.SUPERSEDED.value
    previous.ended_at = now
    previous.end_reason = f"version {agreement.version}"
    db.session.flush()
    return previous.version


def _on_rejected(role: str) -> Callable[[Actor, ApprovalRequest], None]:
    def on_rejected(actor: Actor, request: ApprovalRequest) -> None:
        assert actor.user is not None
        agreement = _lock(int(request.subject_id))
        if agreement.state != AgreementState.SUBMITTED:
            return  # the other side rejected it first: this decision only clears the second request
        agreement.state = AgreementState.REJECTED.value
        agreement.ended_at = utcnow()
        agreement.ended_by_id = actor.user.id
        agreement.end_reason = request.decision_note
        audit.record(
            "dataaccess.agreement_rejected",
            actor,
            target=agreement,
            reference=agreement.reference,
            version=agreement.version,
            role=role,
            reason=request.decision_note or "",
        )

    return on_rejected


def _describe(request: ApprovalRequest) -> str:
    agreement = db.session.get(AccessAgreement, int(request.subject_id))
    if agreement is None:
        return str(request.payload.get("reference", ""))
    dataset = agreement.dataset
    return _(
        "Datenzugriff %(ref)s (Version %(v)s): %(consumer)s liest „%(dataset)s“ von %(owner)s, Felder: %(fields)s",
        ref=agreement.reference,
        v=agreement.version,
        consumer=agreement.consumer_department.name,
        dataset=dataset.name,
        owner=dataset.department.name,
        fields=", ".join(agreement.fields),
    )


def register_kinds(app: Flask) -> None:
    """The two approval kinds an agreement needs (call from register(app))."""
    approvals.register_kind(
        app,
        approvals.ApprovalKind(
            name=STEWARD_KIND,
            label=_l("Datenzugriffsvereinbarung (Datenverantwortung des Amts)"),
            decider_roles=(STEWARD_ROLE,),
            on_approved=_on_approved(STEWARD_ROLE),
            on_rejected=_on_rejected(STEWARD_ROLE),
            describe=_describe,
            department_scoped=True,
        ),
    )
    approvals.register_kind(
        app,
        approvals.ApprovalKind(
            name=DPO_KIND,
            label=_l("Datenzugriffsvereinbarung (Datenschutzbeauftragte Person)"),
            decider_roles=(DPO_ROLE,),
            on_approved=_on_approved(DPO_ROLE),
            on_rejected=_on_rejected(DPO_ROLE),
            describe=_describe,
        ),
    )


# --- revoking -------------------------------------------------------------------------------------------------


def revoke(actor: Actor, agreement_id: int, reason: str) -> AccessAgreement:
    """End an approved version at once (also one past its end date). The dpo or the owning data steward."""
    agreement = _get(agreement_id)
    if not may_revoke(actor, agreement):
        raise Forbidden()
    reason_text = clean_long_text(reason, "reason", NOTE_MAX, required=True)
    assert actor.user is not None
    with transaction():
        agreement = _lock(agreement_id)
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


# --- reading ------------------------------------------------------------------------------------------------


def resolve(agreement: Any) -> AccessAgreement | None:
    """The version an access names: an AccessAgreement, its id (int or digits) for that very version, or a
    reference ("DZV-2026-000001") for the version in force — the approved one, else the latest decided one
    (so a revoked agreement says "revoked"), else the latest draft. None when nothing matches."""
    if isinstance(agreement, AccessAgreement):
        return db.session.get(AccessAgreement, agreement.id)
    if isinstance(agreement, str) and agreement.strip().isdigit():
        agreement = int(agreement.strip())
    if isinstance(agreement, int) and not isinstance(agreement, bool):
        return db.session.get(AccessAgreement, agreement) if 0 < agreement < 2**31 else None
    if not isinstance(agreement, str) or parse_reference(agreement) is None:
        return None
    reference = agreement.strip().upper()
    versions = list(
        db.session.scalars(
            sa.select(AccessAgreement)
            .where(AccessAgreement.reference == reference)
            .order_by(AccessAgreement.version.desc())
        )
    )
    for wanted in (
        lambda a: a.state == AgreementState.APPROVED,
        lambda a: a.state != AgreementState.DRAFT,
        lambda a: True,
    ):
        found = next((a for a in versions if wanted(a)), None)
        if found is not None:
            return found
    return None


def versions(reference: str) -> list[AccessAgreement]:
    """All versions of an agreement, newest first."""
    return list(
        db.session.scalars(
            sa.select(AccessAgreement)
            .where(AccessAgreement.reference == reference)
            .order_by(AccessAgreement.version.desc())
        )
    )
