"""Once-only: a service sends the citizen to a preview of what one department would fetch from another; the
citizen asks for it (a one-off or standing CitizenRequest) or declines and uploads the document themselves.

    p = preview(actor, "DZV-2026-000001", "SNU-PRUEFUNG", case_reference="S-2026-000123")
    request = consent(actor, "DZV-2026-000001", "SNU-PRUEFUNG", case_reference="S-2026-000123", standing=False)

The preview shows the dataset, the owning and the reading department, the purpose, the legal basis and the
labels of the fields the agreement allows: exactly what an access under it may return. It does not show the
citizen's own values: reading them would be a read of the owning department's records outside the one access
function (which logs every read as an official's access), and a provider's records (the treasury's fees) are
not ours to read here. The person can see their own data in the owning service itself.

Only an agreement in force that requires the citizen's request, about citizen accounts, for one of its
purposes, can be previewed; anything else is a DataAccessError (the page says the link is not valid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

from dataaccess.errors import DataAccessError
from dataaccess.models import AccessAgreement, AgreementState, CitizenRequest, Purpose, SubjectKind
from dataaccess.services import agreements, citizen_requests
from dataaccess.services.common import clean_text, is_person, today
from portal.actors import Actor
from portal.extensions import db
from portal.references import parse_reference

CASE_REFERENCE_MAX = citizen_requests.CASE_REFERENCE_MAX


@dataclass(frozen=True)
class PreviewField:
    name: str
    label: str
    special_category: bool


@dataclass(frozen=True)
class Preview:
    agreement: str  # the reference
    version: int
    consumer: str  # the department that would fetch
    owner: str  # the department that holds the data
    dataset: str
    dataset_description: str
    purpose_code: str
    purpose: str  # its label
    legal_basis: str  # the agreement's citation
    fields: list[PreviewField]
    case_reference: str | None
    valid_to: date
    consumer_department_id: int
    dataset_id: int


def _invalid() -> DataAccessError:
    return DataAccessError(
        "agreement", _("Dieser Link zu einem Datenabruf ist nicht gültig oder nicht mehr gültig."), "invalid_link", 404
    )


def _agreement(reference: Any) -> AccessAgreement:
    if not isinstance(reference, str) or parse_reference(reference) is None:
        raise _invalid()
    agreement = agreements.resolve(reference)
    if (
        agreement is None
        or agreement.state != AgreementState.APPROVED
        or agreement.status_on(today()) != AgreementState.APPROVED
        or not agreement.requires_citizen_request
        or agreement.dataset.subject_kind != SubjectKind.CITIZEN
        or not agreement.dataset.active
    ):
        raise _invalid()
    return agreement


def _person(actor: Actor) -> None:
    if not is_person(actor) or actor.on_behalf_of is not None:
        raise Forbidden()


def preview(actor: Actor, agreement: Any, purpose_code: Any, case_reference: Any = None) -> Preview:
    """What an access under `agreement` for `purpose_code` would fetch about the signed-in person."""
    _person(actor)
    found = _agreement(agreement)
    code = purpose_code.strip().upper() if isinstance(purpose_code, str) else ""
    purpose = (
        db.session.scalar(sa.select(Purpose).where(Purpose.code == code, Purpose.active.is_(True)))
        if code in found.purposes
        else None
    )
    if purpose is None:
        raise _invalid()
    case = clean_text(case_reference, "case_reference", CASE_REFERENCE_MAX, required=False) or None
    dataset = found.dataset
    by_name = {f.name: f for f in dataset.fields}
    fields = [
        PreviewField(name, by_name[name].label, by_name[name].special_category)
        for name in found.fields
        if name in by_name
    ]
    return Preview(
        agreement=found.reference,
        version=found.version,
        consumer=found.consumer_department.name,
        owner=dataset.department.name,
        dataset=dataset.name,
        dataset_description=dataset.description,
        purpose_code=purpose.code,
        purpose=purpose.label,
        legal_basis=found.legal_basis_citation,
        fields=fields,
        case_reference=case,
        valid_to=found.valid_to,
        consumer_department_id=found.consumer_department_id,
        dataset_id=found.dataset_id,
    )


def consent(
    actor: Actor, agreement: Any, purpose_code: Any, case_reference: Any = None, *, standing: bool = False
) -> CitizenRequest:
    """The person asks for the access the preview showed: a one-off request for this case, or a standing one
    (until revoked). Audited as dataaccess.citizen_request_created (by citizen_requests.create_request)."""
    shown = preview(actor, agreement, purpose_code, case_reference)
    return citizen_requests.create_request(
        actor,
        consumer_department_id=shown.consumer_department_id,
        dataset_id=shown.dataset_id,
        purpose_code=shown.purpose_code,
        standing=standing,
        case_reference=None if standing else shown.case_reference,
    )


def agreement_requiring_request(consumer_department_id: int, dataset_key: str, purpose_code: str) -> str | None:
    """The reference of the agreement in force under which `consumer_department_id` reads `dataset_key` for
    `purpose_code` only on the citizen's own request; None when no such agreement is in force (then a service
    has nothing to offer the citizen: either no access is possible, or none needs their request)."""
    on = today()
    rows = db.session.scalars(
        sa.select(AccessAgreement)
        .where(
            AccessAgreement.consumer_department_id == consumer_department_id,
            AccessAgreement.state == AgreementState.APPROVED.value,
            AccessAgreement.requires_citizen_request.is_(True),
            AccessAgreement.valid_from <= on,
            AccessAgreement.valid_to >= on,
        )
        .order_by(AccessAgreement.reference, AccessAgreement.version.desc())
    )
    for agreement in rows:
        if agreement.dataset.key == dataset_key and purpose_code in agreement.purposes:
            return agreement.reference
    return None


def has_request(actor: Actor, agreement: str, purpose_code: str, case_reference: str | None) -> bool:
    """Whether the signed-in person has an open request that would let this access for the case through."""
    shown = preview(actor, agreement, purpose_code, case_reference)
    assert actor.user is not None
    found = citizen_requests.find_request(
        actor.user.id, shown.consumer_department_id, shown.dataset_id, shown.purpose_code, shown.case_reference
    )
    return found is not None
