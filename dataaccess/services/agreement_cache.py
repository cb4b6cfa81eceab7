"""Approved agreement versions kept per worker process, as frozen views of what an access needs.

Loading the agreement with its dataset and consuming department was the costliest statement of an access
(issue 8's API benchmark). An approved version never changes except by leaving that state (revoked,
superseded), so a worker keeps the version it found for a reference (or an id) and the access only confirms it:
its own look-up statement (dataaccess.services.access_checks) reads the kept version's row, which must still be
approved with the same approval time (the version, not merely its id, as a rebuilt test database reuses ids).
A version revoked or superseded by any worker or host thus drops out at the next access everywhere; the days it
is in force never change for a version and are checked from the view. Department names can change and are not
kept: the look-up reads the consuming department's name afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from flask import current_app

from dataaccess.models import AccessAgreement, AgreementState, Dataset, agreement_status
from dataaccess.services.agreement_versions import resolve

_KEPT = "stadtportal_dataaccess_agreements_in_force"


@dataclass(frozen=True)
class DatasetView:
    id: int
    key: str
    department_id: int  # the owner
    subject_kind: str

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetView:
        return cls(dataset.id, dataset.key, dataset.department_id, dataset.subject_kind)


@dataclass(frozen=True)
class AgreementView:
    """One version of an agreement as an access reads it (the model's names, so the rules read the same)."""

    __tablename__: ClassVar[str] = AccessAgreement.__tablename__  # names the audit event's target

    id: int
    reference: str
    version: int
    state: str
    approved_at: datetime | None
    consumer_department_id: int
    dataset: DatasetView
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    legal_basis_citation: str
    valid_from: date
    valid_to: date
    requires_case_reference: bool
    requires_citizen_request: bool
    rate_limit_per_hour: int

    @property
    def dataset_id(self) -> int:
        return self.dataset.id

    def status_on(self, day: date) -> str:
        return agreement_status(self.state, self.valid_from, self.valid_to, day)

    @classmethod
    def of(cls, agreement: AccessAgreement) -> AgreementView:
        return cls(
            id=agreement.id,
            reference=agreement.reference,
            version=agreement.version,
            state=agreement.state,
            approved_at=agreement.approved_at,
            consumer_department_id=agreement.consumer_department_id,
            dataset=DatasetView.of(agreement.dataset),
            fields=tuple(agreement.fields),
            purposes=tuple(agreement.purposes),
            legal_basis_citation=agreement.legal_basis_citation,
            valid_from=agreement.valid_from,
            valid_to=agreement.valid_to,
            requires_case_reference=agreement.requires_case_reference,
            requires_citizen_request=agreement.requires_citizen_request,
            rate_limit_per_hour=agreement.rate_limit_per_hour,
        )


def _kept() -> dict[str | int, AgreementView]:
    return current_app.extensions.setdefault(_KEPT, {})


def _key(asked: Any) -> str | int | None:
    """How `resolve` reads what the access named; None for what is not kept (a model instance)."""
    if isinstance(asked, str):
        text = asked.strip()
        return int(text) if text.isdigit() else text.upper()
    if isinstance(asked, int) and not isinstance(asked, bool):
        return asked
    return None


def find(asked: Any) -> tuple[AgreementView | None, bool]:
    """The version an access names (see `resolve`), and whether it is a kept one that the access must confirm."""
    key = _key(asked)
    kept = _kept().get(key) if key is not None else None
    if kept is not None:
        return kept, True
    agreement = resolve(asked)
    if agreement is None:
        return None, False
    view = AgreementView.of(agreement)
    if key is not None and view.state == AgreementState.APPROVED:
        _kept()[key] = view
    return view, False


def forget(view: AgreementView) -> None:
    """Drop a kept version (it is no longer approved), under every name it was kept by."""
    kept = _kept()
    for key in [key for key, found in kept.items() if found.id == view.id]:
        del kept[key]
