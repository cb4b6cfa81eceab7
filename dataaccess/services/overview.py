"""Read-only questions the staff pages ask: which datasets and agreements a person may see, whose they are.

Every list is one query with the rows it shows loaded alongside (no query per row). Who may change anything is
decided by catalogue.py and agreements.py; these functions only narrow what is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden, NotFound

from dataaccess.models import AccessAgreement, AgreementState, Dataset
from dataaccess.services.agreements import DRAFTER_ROLES, may_see
from dataaccess.services.common import STEWARD_ROLE, is_dpo, is_person, is_steward_of, today
from portal.accounts.models import User
from portal.actors import Actor
from portal.approvals.models import ApprovalRequest
from portal.departments.models import Department
from portal.extensions import db

# What the agreement list can be filtered by: the stored states, and "expired" (approved, past valid_to).
STATE_FILTERS = ("draft", "submitted", "approved", "expired", "rejected", "revoked", "superseded")
LIST_LIMIT = 300


def _departments_where(actor: Actor, roles: Iterable[str] | None = None) -> list[Department]:
    if not is_person(actor):
        return []
    assert actor.user is not None
    wanted = set(roles) if roles is not None else None
    ids = {m.department_id for m in actor.user.memberships if wanted is None or m.role in wanted}
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Department).where(Department.id.in_(ids)).order_by(Department.name)))


def steward_departments(actor: Actor) -> list[Department]:
    """Departments whose datasets the person keeps (data steward there)."""
    return _departments_where(actor, (STEWARD_ROLE,))


def drafter_departments(actor: Actor) -> list[Department]:
    """Departments for which the person may write agreements (department admin or data steward)."""
    return _departments_where(actor, DRAFTER_ROLES)


def member_departments(actor: Actor) -> list[Department]:
    return _departments_where(actor)


def all_departments() -> list[Department]:
    return list(db.session.scalars(sa.select(Department).order_by(Department.name)))


def visible_datasets(actor: Actor) -> list[Dataset]:
    """The dpo sees every dataset; a data steward those of their departments (inactive ones too)."""
    query = sa.select(Dataset).options(joinedload(Dataset.department)).order_by(Dataset.name, Dataset.id)
    if not is_dpo(actor):
        ids = [d.id for d in steward_departments(actor)]
        if not ids:
            return []
        query = query.where(Dataset.department_id.in_(ids))
    return list(db.session.scalars(query).unique())


def dataset_for(actor: Actor, dataset_id: int) -> Dataset:
    """A dataset for its page: its own department's data steward, or the dpo (who reads only)."""
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound()
    if not (is_dpo(actor) or is_steward_of(actor, dataset.department_id)):
        raise Forbidden()
    return dataset


def offered_datasets() -> list[Dataset]:
    """Active datasets any department may ask for (with their owner, for the choice list)."""
    return list(
        db.session.scalars(
            sa.select(Dataset)
            .options(joinedload(Dataset.department))
            .where(Dataset.active.is_(True))
            .order_by(Dataset.name, Dataset.id)
        ).unique()
    )


def visible_agreements(
    actor: Actor, *, state: str | None = None, department_id: int | None = None
) -> list[AccessAgreement]:
    """Agreement versions the person may see (the dpo: all; others: where their department reads or owns),
    newest reference first; `state` one of STATE_FILTERS, `department_id` the reading or the owning one."""
    query = (
        sa.select(AccessAgreement)
        .join(Dataset, Dataset.id == AccessAgreement.dataset_id)
        .options(
            joinedload(AccessAgreement.dataset).joinedload(Dataset.department),
            joinedload(AccessAgreement.consumer_department),
        )
        .order_by(AccessAgreement.reference.desc(), AccessAgreement.version.desc())
        .limit(LIST_LIMIT)
    )
    if not is_dpo(actor):
        ids = [d.id for d in member_departments(actor)]
        if not ids:
            return []
        query = query.where(sa.or_(AccessAgreement.consumer_department_id.in_(ids), Dataset.department_id.in_(ids)))
    if department_id is not None:
        query = query.where(
            sa.or_(AccessAgreement.consumer_department_id == department_id, Dataset.department_id == department_id)
        )
    if state == "expired":
        query = query.where(AccessAgreement.state == AgreementState.APPROVED.value, AccessAgreement.valid_to < today())
    elif state == "approved":
        query = query.where(AccessAgreement.state == AgreementState.APPROVED.value, AccessAgreement.valid_to >= today())
    elif state in STATE_FILTERS:
        query = query.where(AccessAgreement.state == state)
    return list(db.session.scalars(query).unique())


def agreement_for(actor: Actor, agreement_id: int) -> AccessAgreement:
    agreement = db.session.get(AccessAgreement, agreement_id)
    if agreement is None:
        raise NotFound()
    if not may_see(actor, agreement):
        raise Forbidden()
    return agreement


@dataclass(frozen=True)
class Approvals:
    steward: ApprovalRequest | None
    dpo: ApprovalRequest | None


def approvals_of(agreement: AccessAgreement) -> Approvals:
    ids = [i for i in (agreement.steward_approval_id, agreement.dpo_approval_id) if i is not None]
    found = (
        {r.id: r for r in db.session.scalars(sa.select(ApprovalRequest).where(ApprovalRequest.id.in_(ids)))}
        if ids
        else {}
    )
    return Approvals(found.get(agreement.steward_approval_id or 0), found.get(agreement.dpo_approval_id or 0))


def people(ids: Iterable[int | None]) -> dict[int, User]:
    """Users by id, for the names on a page (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}
