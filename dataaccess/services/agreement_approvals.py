"""The two approvals a submitted agreement version needs, as kinds of the core's four-eyes approvals
(portal.approvals): `dataaccess.agreement_steward`, decided by a data steward of the owning department, and
`dataaccess.agreement_dpo`, decided by the dpo. See dataaccess.services.agreements for the version's life.

The callbacks run in the deciding transaction. Each approval stamps the version; the second one makes it
approved and supersedes the version approved before it. They refuse the draft's author and one person giving
both approvals (the database's CHECK constraints say the same). A rejection by either ends the version as
rejected and closes the other request undecided, so it leaves that person's queue. When the submitter
withdraws one request, the version goes back to being a draft and the other request is closed as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.models import AccessAgreement, AgreementState
from dataaccess.services.agreement_versions import lock_version
from dataaccess.services.common import DPO_ROLE, STEWARD_ROLE
from portal.actors import Actor
from portal.approvals import services as approvals
from portal.approvals.models import ApprovalRequest
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow

STEWARD_KIND = "dataaccess.agreement_steward"
DPO_KIND = "dataaccess.agreement_dpo"


def register_kinds(app: Flask) -> None:
    """The two approval kinds an agreement needs (call from register(app))."""
    for name, label, role, department_scoped in (
        (STEWARD_KIND, _l("Datenzugriffsvereinbarung (Datenverantwortung des Amts)"), STEWARD_ROLE, True),
        (DPO_KIND, _l("Datenzugriffsvereinbarung (Datenschutzbeauftragte Person)"), DPO_ROLE, False),
    ):
        approvals.register_kind(
            app,
            approvals.ApprovalKind(
                name=name,
                label=label,
                decider_roles=(role,),
                on_approved=_on_approved(role),
                on_rejected=_on_rejected(role),
                on_withdrawn=_on_withdrawn,
                describe=_describe,
                department_scoped=department_scoped,
            ),
        )


def _closed() -> approvals.ApprovalError:
    return approvals.ApprovalError(
        _l("Diese Vereinbarung wurde bereits abgelehnt oder zurückgezogen. Lehnen Sie die Freigabe ebenfalls ab."),
        "agreement_closed",
    )


def _on_approved(role: str) -> Callable[[Actor, ApprovalRequest], None]:
    def on_approved(actor: Actor, request: ApprovalRequest) -> None:
        assert actor.user is not None  # the core lets only people decide
        agreement = lock_version(int(request.subject_id))
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
        agreement = lock_version(int(request.subject_id))
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
        _close_other(actor, agreement, request, _("Die andere Freigabe dieser Vereinbarung wurde abgelehnt."))

    return on_rejected


def _on_withdrawn(actor: Actor, request: ApprovalRequest) -> None:
    """The submitter took one request back: the version is a draft again (its author may change and submit it
    anew), and the other request is closed so nobody decides on what is no longer submitted."""
    agreement = lock_version(int(request.subject_id))
    if agreement.state != AgreementState.SUBMITTED:
        return
    _close_other(actor, agreement, request, _("Die Vereinbarung wurde zur Überarbeitung zurückgezogen."))
    agreement.state = AgreementState.DRAFT.value
    agreement.submitted_at = None
    agreement.requested_by_id = None
    agreement.steward_approval_id = agreement.dpo_approval_id = None
    agreement.steward_approved_by_id = agreement.steward_approved_at = None
    agreement.dpo_approved_by_id = agreement.dpo_approved_at = None
    audit.record(
        "dataaccess.agreement_withdrawn",
        actor,
        target=agreement,
        reference=agreement.reference,
        version=agreement.version,
    )


def _close_other(actor: Actor, agreement: AccessAgreement, decided: ApprovalRequest, note: str) -> None:
    for request_id in (agreement.steward_approval_id, agreement.dpo_approval_id):
        if request_id is not None and request_id != decided.id:
            other = db.session.get(ApprovalRequest, request_id)
            if other is not None:
                approvals.close_request(actor, other, note)


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
