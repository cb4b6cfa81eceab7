"""Where a dataset's records come from: a provider function of the owning service, or the portal's own store.

A service that keeps the data itself offers it through a function, registered in its register(app):

    from dataaccess.services.records import Subject, register_provider

    def paid_fees(subject: Subject) -> list[dict]:          # read-only; runs inside the access transaction
        return [{"kassenzeichen": p.kassenzeichen, "betrag_cents": p.amount_cents, ...}
                for p in payments.services.orders.paid_by_user(subject.user_id)]

    register_provider(app, "stadtkasse.gebuehren", paid_fees)

The access function (dataaccess.services.access.read) asks the provider for every record about the subject and
keeps only the fields the agreement allows and the official asked for; the provider need not minimise. A
dataset without a provider is read from the record store (`DatasetRecord`), which `put_record` fills (the
demo's building permits and traffic orders live there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

import dataaccess.actions  # noqa: F401  (declares the audit actions)
from dataaccess.errors import DataAccessError
from dataaccess.models import Dataset, DatasetRecord, SubjectKind
from dataaccess.services.agreement_cache import DatasetView
from dataaccess.services.common import clean_text, is_steward_of
from portal.accounts.models import User
from portal.actors import SYSTEM, Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

_PROVIDERS_KEY = "stadtportal_dataaccess_providers"
SUBJECT_REFERENCE_MAX = 100
RECORD_KEY_MAX = 100


@dataclass(frozen=True)
class Subject:
    """Whom records are about: a portal account (citizen datasets) or a case-file reference (case datasets)."""

    user_id: int | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.reference is None):
            raise ValueError("a subject is either a user id or a reference")

    def __str__(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"ref:{self.reference}"


Provider = Callable[[Subject], list[dict[str, Any]]]


def register_provider(app: Flask, dataset_key: str, fetch: Provider) -> None:
    """Let `fetch(subject)` supply the records of the dataset with this key (call from register(app))."""
    providers: dict[str, Provider] = app.extensions.setdefault(_PROVIDERS_KEY, {})
    if dataset_key in providers and providers[dataset_key] is not fetch:
        raise ValueError(f"dataset {dataset_key!r} already has a record provider")
    providers[dataset_key] = fetch


def provider_for(dataset_key: str) -> Provider | None:
    return current_app.extensions.get(_PROVIDERS_KEY, {}).get(dataset_key)


def parse_subject(value: Any, subject_kind: str) -> Subject:
    """The subject as a caller names it: for citizen datasets a User, a user id or its digits ("42"); for case
    datasets the reference text. DataAccessError("subject", code="invalid_subject") otherwise."""
    if subject_kind == SubjectKind.CITIZEN:
        if isinstance(value, User):
            return Subject(user_id=value.id)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        # Account ids are 32-bit: a bigger number is no account (and PostgreSQL would refuse to compare it).
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
            return Subject(user_id=value)
        raise DataAccessError("subject", _("Geben Sie die Kontonummer der Person an."), "invalid_subject")
    if isinstance(value, str):
        text = " ".join(value.split())
        if text and len(text) <= SUBJECT_REFERENCE_MAX and text.isprintable():
            return Subject(reference=text)
    raise DataAccessError(
        "subject",
        _("Geben Sie das Aktenzeichen der betroffenen Person oder Firma an (höchstens %(n)s Zeichen).", n=100),
        "invalid_subject",
    )


def _records_of(column: Any) -> sa.Select[Any]:
    """Built once per kind of subject (an access runs it every time): one index each, see DatasetRecord."""
    return (
        sa.select(DatasetRecord.data)
        .where(DatasetRecord.dataset_id == sa.bindparam("dataset_id"), column == sa.bindparam("subject"))
        .order_by(DatasetRecord.id)
    )


_RECORDS_OF_USER = _records_of(DatasetRecord.subject_user_id)
_RECORDS_OF_REFERENCE = _records_of(DatasetRecord.subject_reference)


def fetch_records(dataset: Dataset | DatasetView, subject: Subject) -> list[dict[str, Any]]:
    """Every record about the subject, whole (the caller keeps only the allowed fields)."""
    provider = provider_for(dataset.key)
    if provider is not None:
        return [dict(row) for row in provider(subject)]
    params: dict[str, Any]
    if subject.user_id is not None:
        query, params = _RECORDS_OF_USER, {"dataset_id": dataset.id, "subject": subject.user_id}
    else:
        query, params = _RECORDS_OF_REFERENCE, {"dataset_id": dataset.id, "subject": subject.reference}
    return [dict(data) for data in db.session.connection().execute(query, params).scalars()]


def put_record(
    actor: Actor, dataset_key: str, record_key: str, subject: Subject, data: dict[str, Any]
) -> DatasetRecord:
    """Store (or replace) one record of a dataset kept in the portal: the owning data steward, or the system
    (demo, an import job). Keys of `data` must be fields of the dataset."""
    dataset = db.session.scalar(sa.select(Dataset).where(Dataset.key == dataset_key))
    if dataset is None:
        raise DataAccessError("dataset", _("Diesen Datenbestand gibt es nicht."), "unknown_dataset", 404)
    if actor.kind != "system" and not is_steward_of(actor, dataset.department_id):
        raise Forbidden()
    if provider_for(dataset.key) is not None:
        raise DataAccessError("dataset", _("Dieser Datenbestand wird vom Fachverfahren selbst geführt."), "provided")
    if (dataset.subject_kind == SubjectKind.CITIZEN) != (subject.user_id is not None):
        raise DataAccessError(
            "subject", _("Die Art der betroffenen Person passt nicht zum Datenbestand."), "invalid_subject"
        )
    record_key = clean_text(record_key, "record_key", RECORD_KEY_MAX)
    unknown = sorted(set(data) - set(dataset.field_names))
    if unknown:
        raise DataAccessError(
            "data", _("Diese Felder hat der Datenbestand nicht: %(f)s", f=", ".join(unknown)), "unknown_field"
        )
    with transaction():
        record = db.session.scalar(
            sa.select(DatasetRecord).where(
                DatasetRecord.dataset_id == dataset.id, DatasetRecord.record_key == record_key
            )
        )
        if record is None:
            record = DatasetRecord(dataset_id=dataset.id, record_key=record_key)
            db.session.add(record)
        record.subject_user_id, record.subject_reference = subject.user_id, subject.reference
        record.data = dict(data)
        record.updated_at = utcnow()
        audit.record(
            "dataaccess.record_saved",
            actor,
            target=record,
            subject_user_id=subject.user_id,
            dataset=dataset.key,
            record_key=record_key,
            department_id=dataset.department_id,
        )
    return record


def purge_expired_records(now: datetime | None = None) -> dict[str, int]:
    """Delete the records of the portal's own store that have outlived their dataset's retention period
    (counted from the record's last update); one transaction and one audit event per dataset. Returns the
    number deleted per dataset key. Runs daily as the job `dataaccess.purge_records`."""
    now = now or utcnow()
    purged: dict[str, int] = {}
    for dataset in list(db.session.scalars(sa.select(Dataset).order_by(Dataset.id))):
        cutoff = now - timedelta(days=dataset.retention_days)
        with transaction():
            result = db.session.execute(
                sa.delete(DatasetRecord)
                .where(DatasetRecord.dataset_id == dataset.id, DatasetRecord.updated_at < cutoff)
                .execution_options(synchronize_session=False)
            )
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
            if count:
                audit.record(
                    "dataaccess.records_purged",
                    SYSTEM,
                    target=dataset,
                    dataset=dataset.key,
                    count=count,
                    retention_days=dataset.retention_days,
                )
        if count:
            purged[dataset.key] = count
    return purged
