"""What a version of an access agreement says (`AgreementTerms`), how the terms are checked against the
catalogue, and how they are written onto a version. Checked when a draft is written or changed and again when it
is submitted: the catalogue may have changed in between (a purpose retired, a dataset closed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dataaccess.errors import DataAccessError
from dataaccess.models import AccessAgreement, Dataset, LegalBasis, Purpose, SubjectKind
from dataaccess.services.common import clean_int, clean_long_text
from portal.departments.models import Department
from portal.extensions import db

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


def _names(values: Any, field: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise DataAccessError(field, _("Wählen Sie mindestens einen Eintrag."), "invalid_input")
    names = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not names:
        raise DataAccessError(field, _("Wählen Sie mindestens einen Eintrag."), "required")
    return names


def checked_terms(terms: AgreementTerms) -> tuple[AgreementTerms, Dataset, LegalBasis]:
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


def apply_terms(agreement: AccessAgreement, terms: AgreementTerms, basis: LegalBasis) -> None:
    """Write checked terms onto a version (a draft, or one being submitted)."""
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
