"""The citizen's own requests that one department fetch their data from another (once-only).

An agreement with `requires_citizen_request` lets an access through only while the person concerned has such a
request for that department, dataset and purpose: a standing one (until they revoke it) or a one-off one, which
the first access it allows uses up (in the access's own transaction, see dataaccess.services.access).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden, NotFound

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import DataAccessError
from dataaccess.models import CitizenRequest, Dataset, Purpose, SubjectKind
from dataaccess.services.common import clean_text, is_person
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

CASE_REFERENCE_MAX = 60


def create_request(
    actor: Actor,
    *,
    consumer_department_id: int,
    dataset_id: int,
    purpose_code: str,
    standing: bool,
    case_reference: str | None = None,
) -> CitizenRequest:
    """The signed-in person asks `consumer_department_id` to fetch their records of `dataset_id` for the purpose.

    A one-off request may name the case it is for (then only an access for that case uses it).
    """
    if not is_person(actor) or actor.on_behalf_of is not None:
        raise Forbidden()
    assert actor.user is not None
    department = db.session.get(Department, consumer_department_id)
    if department is None:
        raise DataAccessError("consumer_department_id", _("Dieses Amt gibt es nicht."), "unknown_department")
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None or not dataset.active or dataset.subject_kind != SubjectKind.CITIZEN:
        raise DataAccessError("dataset_id", _("Diesen Datenbestand gibt es nicht."), "unknown_dataset")
    purpose = db.session.scalar(
        sa.select(Purpose).where(Purpose.code == str(purpose_code).strip().upper(), Purpose.active.is_(True))
    )
    if purpose is None:
        raise DataAccessError("purpose_code", _("Diesen Zweck gibt es nicht."), "unknown_purpose")
    case = clean_text(case_reference, "case_reference", CASE_REFERENCE_MAX, required=False) or None
    with transaction():
        request = CitizenRequest(
            user_id=actor.user.id,
            consumer_department_id=department.id,
            dataset_id=dataset.id,
            purpose_code=purpose.code,
            standing=bool(standing),
            case_reference=None if standing else case,
        )
        db.session.add(request)
        audit.record(
            "dataaccess.citizen_request_created",
            actor,
            target=request,
            subject_user_id=actor.user.id,
            purpose=purpose.label,
            department_id=department.id,
            department=department.name,
            dataset=dataset.key,
            standing=request.standing,
            case_reference=request.case_reference,
        )
    return request


def revoke_request(actor: Actor, request_id: int) -> CitizenRequest:
    """The person takes their request back; accesses that need it are refused from now on."""
    if actor.user is None:
        raise Forbidden()
    with transaction():
        request = db.session.get(CitizenRequest, request_id)
        if request is None or request.user_id != actor.user.id:
            raise NotFound()
        if request.revoked_at is None:
            request.revoked_at = utcnow()
            audit.record(
                "dataaccess.citizen_request_revoked",
                actor,
                target=request,
                subject_user_id=request.user_id,
                dataset=request.dataset.key,
                department_id=request.consumer_department_id,
            )
    return request


def active_requests(actor: Actor) -> list[CitizenRequest]:
    """The person's requests that still allow an access, newest first."""
    if actor.user is None:
        return []
    return list(
        db.session.scalars(
            sa.select(CitizenRequest)
            .where(
                CitizenRequest.user_id == actor.user.id,
                CitizenRequest.revoked_at.is_(None),
                CitizenRequest.used_at.is_(None),
            )
            .order_by(CitizenRequest.created_at.desc(), CitizenRequest.id.desc())
        )
    )


def find_request(
    user_id: int, consumer_department_id: int, dataset_id: int, purpose_code: str, case_reference: str | None
) -> CitizenRequest | None:
    """The request that allows this access: a standing one first, else an unused one-off one for this case (or
    for no case in particular). None if the person has not asked (or has revoked)."""
    rows = db.session.scalars(
        sa.select(CitizenRequest)
        .where(
            CitizenRequest.user_id == user_id,
            CitizenRequest.consumer_department_id == consumer_department_id,
            CitizenRequest.dataset_id == dataset_id,
            CitizenRequest.purpose_code == purpose_code,
            CitizenRequest.revoked_at.is_(None),
            CitizenRequest.used_at.is_(None),
        )
        .order_by(CitizenRequest.standing.desc(), CitizenRequest.id)
    )
    for row in rows:
        if row.standing or row.case_reference is None or row.case_reference == case_reference:
            return row
    return None


def use_request(request: CitizenRequest) -> bool:
    """Use up a one-off request in the caller's transaction; False if it was used or revoked a moment ago.

    Standing requests are not used up (True while not revoked). The UPDATE's condition is the guard: two
    accesses at once cannot both use one one-off request.
    """
    condition = [CitizenRequest.id == request.id, CitizenRequest.revoked_at.is_(None)]
    if request.standing:
        still = db.session.scalar(sa.select(CitizenRequest.id).where(*condition))
        return still is not None
    result = db.session.execute(
        sa.update(CitizenRequest)
        .where(*condition, CitizenRequest.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
