"""The catalogue: datasets and their fields (kept by the owning department's data steward), purposes and
legal bases (kept by the data protection officer).

A dataset's key, owner and subject kind never change once registered (agreements and records point at them);
its name, description, retention period and fields may. Fields are never deleted: an approved agreement may
name them.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import DataAccessError
from dataaccess.models import Dataset, DatasetField, LegalBasis, Purpose, SubjectKind
from dataaccess.services.common import clean_int, clean_long_text, clean_text, is_dpo, is_steward_of
from portal.actors import Actor
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

KEY_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
FIELD_RE = re.compile(r"[a-z][a-z0-9_]*")
PURPOSE_RE = re.compile(r"[A-Z0-9][A-Z0-9_.-]*")
NAME_MAX = 200
DESCRIPTION_MAX = 4000
CITATION_MAX = 2000
RETENTION_MAX_DAYS = 365 * 100

# Personal-data categories a field can belong to. The special categories of Art. 9 DSGVO always mark the
# field as special; any other field can be marked special by the steward too (e.g. data on offences, Art. 10).
CATEGORIES: dict[str, Any] = {
    "identity": _l("Identifikationsdaten (Name, Geburtsdatum)"),
    "contact": _l("Kontaktdaten"),
    "address": _l("Anschrift"),
    "case": _l("Verfahrens- und Vorgangsdaten"),
    "property": _l("Grundstücks- und Objektdaten"),
    "vehicle": _l("Fahrzeugdaten"),
    "financial": _l("Finanz- und Zahlungsdaten"),
    "offence": _l("Daten über Ordnungswidrigkeiten und Straftaten"),
    "health": _l("Gesundheitsdaten"),
    "religion": _l("Religiöse oder weltanschauliche Überzeugungen"),
    "ethnic_origin": _l("Rassische und ethnische Herkunft"),
    "political": _l("Politische Meinungen"),
    "trade_union": _l("Gewerkschaftszugehörigkeit"),
    "genetic": _l("Genetische Daten"),
    "biometric": _l("Biometrische Daten zur Identifizierung"),
    "sex_life": _l("Sexualleben oder sexuelle Orientierung"),
    "other": _l("Sonstige Daten"),
}
ART9_CATEGORIES = frozenset(
    {"health", "religion", "ethnic_origin", "political", "trade_union", "genetic", "biometric", "sex_life"}
)
SUBJECT_KINDS: dict[str, Any] = {
    SubjectKind.CITIZEN.value: _l("Bürgerkonto im Stadtportal"),
    SubjectKind.CASE.value: _l("Betroffene Person oder Firma einer Akte (Aktenzeichen)"),
}


# --- datasets and fields (the owning department's data steward) ---------------------------------------------


def _department(department_id: Any) -> Department:
    department = db.session.get(Department, department_id) if isinstance(department_id, int) else None
    if department is None:
        raise DataAccessError("department_id", _("Dieses Amt gibt es nicht."), "unknown_department")
    return department


def _dataset_for_steward(actor: Actor, dataset_id: int) -> Dataset:
    dataset = db.session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound()
    if not is_steward_of(actor, dataset.department_id):
        raise Forbidden()
    return dataset


def create_dataset(
    actor: Actor,
    *,
    department_id: int,
    key: str,
    name: str,
    retention_days: int,
    subject_kind: str,
    description: str = "",
) -> Dataset:
    """Register a dataset the actor's department owns. Only that department's data steward may."""
    department = _department(department_id)
    if not is_steward_of(actor, department.id):
        raise Forbidden()
    key = clean_text(key, "key", 64).lower()
    if not KEY_RE.fullmatch(key):
        raise DataAccessError(
            "key", _("Nur Kleinbuchstaben, Ziffern, Unterstrich und Punkt, z. B. bauamt.baugenehmigungen."), "bad_key"
        )
    if subject_kind not in SUBJECT_KINDS:
        raise DataAccessError("subject_kind", _("Wählen Sie, über wen die Daten geführt werden."), "bad_subject_kind")
    with transaction():
        if db.session.scalar(sa.select(Dataset.id).where(Dataset.key == key)) is not None:
            raise DataAccessError("key", _("Diesen Schlüssel hat schon ein anderer Datenbestand."), "key_taken", 409)
        dataset = Dataset(
            key=key,
            department_id=department.id,
            **_described(name, description, retention_days),
            subject_kind=subject_kind,
        )
        db.session.add(dataset)
        _record_saved(actor, dataset)
    return dataset


def update_dataset(
    actor: Actor,
    dataset_id: int,
    *,
    name: str,
    description: str,
    retention_days: int,
    active: bool = True,
) -> Dataset:
    """Change what people read about a dataset; its key, owner and subject kind stay."""
    dataset = _dataset_for_steward(actor, dataset_id)
    values = {**_described(name, description, retention_days), "active": bool(active)}
    with transaction():
        for attribute, value in values.items():
            setattr(dataset, attribute, value)
        dataset.updated_at = utcnow()
        _record_saved(actor, dataset, retention_days=dataset.retention_days, active=dataset.active)
    return dataset


def _described(name: Any, description: Any, retention_days: Any) -> dict[str, Any]:
    """What people read about a dataset, cleaned: the same rules when it is registered and when it changes."""
    return {
        "name": clean_text(name, "name", NAME_MAX),
        "description": clean_long_text(description, "description", DESCRIPTION_MAX),
        "retention_days": clean_int(retention_days, "retention_days", 1, RETENTION_MAX_DAYS),
    }


def _record_saved(actor: Actor, dataset: Dataset, **details: Any) -> None:
    audit.record(
        "dataaccess.dataset_saved",
        actor,
        target=dataset,
        key=dataset.key,
        name=dataset.name,
        department_id=dataset.department_id,
        **details,
    )


def save_field(
    actor: Actor,
    dataset_id: int,
    *,
    name: str,
    label: str,
    category: str,
    special_category: bool = False,
    position: int | None = None,
) -> DatasetField:
    """Add a field to a dataset, or change the label, category or position of the field of that name."""
    dataset = _dataset_for_steward(actor, dataset_id)
    name = clean_text(name, "name", 64).lower()
    if not FIELD_RE.fullmatch(name):
        raise DataAccessError(
            "name", _("Nur Kleinbuchstaben, Ziffern und Unterstrich, z. B. aktenzeichen."), "bad_name"
        )
    if category not in CATEGORIES:
        raise DataAccessError("category", _("Wählen Sie eine Kategorie personenbezogener Daten."), "bad_category")
    label = clean_text(label, "label", NAME_MAX)
    special = bool(special_category) or category in ART9_CATEGORIES
    with transaction():
        field = next((f for f in dataset.fields if f.name == name), None)
        if field is None:
            field = DatasetField(name=name, position=len(dataset.fields) if position is None else position)
            dataset.fields.append(field)
        elif position is not None:
            field.position = position
        field.label = label
        field.category = category
        field.special_category = special
        dataset.updated_at = utcnow()
        audit.record(
            "dataaccess.field_saved",
            actor,
            target=field,
            dataset=dataset.key,
            name=name,
            category=category,
            special_category=special,
        )
    return field


# --- purposes and legal bases (the dpo) ------------------------------------------------------------------------


def save_purpose(actor: Actor, *, code: str, label: str, description: str = "", active: bool = True) -> Purpose:
    """Create the purpose with this code, or change its label and description. Only the dpo may.

    The label is what a citizen reads in their log ("Prüfung Ihres Bauantrags"): plain German.
    """
    if not is_dpo(actor):
        raise Forbidden()
    code = clean_text(code, "code", 40).upper()
    if not PURPOSE_RE.fullmatch(code):
        raise DataAccessError(
            "code", _("Nur Großbuchstaben, Ziffern, Bindestrich und Punkt, z. B. BAU-PRUEF."), "bad_code"
        )
    label = clean_text(label, "label", NAME_MAX)
    description = clean_long_text(description, "description", DESCRIPTION_MAX)
    with transaction():
        purpose = db.session.scalar(sa.select(Purpose).where(Purpose.code == code))
        if purpose is None:
            purpose = Purpose(code=code)
            db.session.add(purpose)
        purpose.label, purpose.description, purpose.active = label, description, bool(active)
        audit.record(
            "dataaccess.purpose_saved", actor, target=purpose, identifier=code, label=label, active=purpose.active
        )
    return purpose


def save_legal_basis(
    actor: Actor, *, label: str, citation: str, active: bool = True, legal_basis_id: int | None = None
) -> LegalBasis:
    """Create a legal basis, or change one (agreements keep the citation they were approved with)."""
    if not is_dpo(actor):
        raise Forbidden()
    label = clean_text(label, "label", NAME_MAX)
    citation = clean_long_text(citation, "citation", CITATION_MAX, required=True)
    with transaction():
        clash = db.session.scalar(sa.select(LegalBasis.id).where(LegalBasis.label == label))
        if clash is not None and clash != legal_basis_id:
            raise DataAccessError("label", _("Diese Bezeichnung ist schon vergeben."), "label_taken", 409)
        if legal_basis_id is None:
            basis = LegalBasis()
            db.session.add(basis)
        else:
            found = db.session.get(LegalBasis, legal_basis_id)
            if found is None:
                raise NotFound()
            basis = found
        basis.label, basis.citation, basis.active = label, citation, bool(active)
        audit.record(
            "dataaccess.legal_basis_saved", actor, target=basis, label=label, citation=citation, active=basis.active
        )
    return basis


# --- reading the catalogue ------------------------------------------------------------------------------------


def datasets(department_id: int | None = None, *, active_only: bool = True) -> list[Dataset]:
    query = sa.select(Dataset).order_by(Dataset.name, Dataset.id)
    if department_id is not None:
        query = query.where(Dataset.department_id == department_id)
    if active_only:
        query = query.where(Dataset.active.is_(True))
    return list(db.session.scalars(query))


def datasets_with_fields() -> list[Dataset]:
    """The active datasets with their owner and fields loaded (three queries, for the API's catalogue)."""
    return list(
        db.session.scalars(
            sa.select(Dataset)
            .where(Dataset.active.is_(True))
            .options(selectinload(Dataset.fields), selectinload(Dataset.department))
            .order_by(Dataset.name, Dataset.id)
        )
    )


def get_dataset(key_or_id: str | int) -> Dataset | None:
    if isinstance(key_or_id, int):
        return db.session.get(Dataset, key_or_id)
    return db.session.scalar(sa.select(Dataset).where(Dataset.key == key_or_id))


def purposes(*, active_only: bool = True) -> list[Purpose]:
    query = sa.select(Purpose).order_by(Purpose.code)
    if active_only:
        query = query.where(Purpose.active.is_(True))
    return list(db.session.scalars(query))


def purposes_by_code(codes: list[str]) -> dict[str, Purpose]:
    if not codes:
        return {}
    return {p.code: p for p in db.session.scalars(sa.select(Purpose).where(Purpose.code.in_(codes)))}


def legal_bases(*, active_only: bool = True) -> list[LegalBasis]:
    query = sa.select(LegalBasis).order_by(LegalBasis.label)
    if active_only:
        query = query.where(LegalBasis.active.is_(True))
    return list(db.session.scalars(query))
