"""Data access between departments: the catalogue, versioned agreements, the records, the access log.

Invariants the database keeps, so that no code path and no race can break them:
- a dataset's key is unique, a field's name unique within its dataset, a purpose's code unique;
- an agreement is identified by its reference and version; at most one version of a reference is open
  (draft or submitted) and at most one is approved (in force) at any time (partial unique indexes);
- an approved (or later revoked / superseded) version carries both approvals, the data steward's and the
  dpo's, by two different people, neither of them the requester (CHECK constraints);
- every access-log row points at its audit event (`audit_seq`, unique): the log is a fast index over the
  tamper-evident trail, never a record of its own.

"Expired" is not stored: an approved version is in force on the days valid_from..valid_to (both inclusive,
calendar days in Europe/Berlin) and expired after valid_to (see `AccessAgreement.status_on`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import as_utc, utcnow


class SubjectKind(enum.StrEnum):
    CITIZEN = "citizen"  # records are about a portal account (subject_user_id)
    CASE = "case"  # records are about a case-file subject (a business or file reference)


class AgreementState(enum.StrEnum):
    DRAFT = "draft"  # still being written by the consumer department; may be changed
    SUBMITTED = "submitted"  # waiting for the owning department's data steward and the dpo
    APPROVED = "approved"  # both approved: in force between valid_from and valid_to
    REJECTED = "rejected"  # one of the two rejected it; this version is never usable
    REVOKED = "revoked"  # withdrawn by the dpo or the owning data steward after approval
    SUPERSEDED = "superseded"  # a later version of the same reference was approved


class AccessOutcome(enum.StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} in ({', '.join(repr(v.value) for v in values)})"


class Dataset(Model):
    """Data a department holds about citizens or case subjects, registered by its data steward."""

    __tablename__ = "dataaccess_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)  # e.g. "bauamt.baugenehmigungen"
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)  # the owner
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    retention_days: Mapped[int] = mapped_column(sa.Integer)
    subject_kind: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department = relationship("Department")
    fields: Mapped[list[DatasetField]] = relationship(
        back_populates="dataset", order_by="DatasetField.position, DatasetField.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(_in("subject_kind", SubjectKind), name="subject_kind"),
        sa.CheckConstraint("retention_days > 0", name="retention"),
    )

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


class DatasetField(Model):
    """One field of a dataset, with its personal-data category; `special_category`: Art. 9 DSGVO data."""

    __tablename__ = "dataaccess_field"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataaccess_dataset.id"))
    name: Mapped[str] = mapped_column(sa.String(64))  # the key in a record's data, e.g. "aktenzeichen"
    label: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(40))  # see dataaccess.services.catalogue.CATEGORIES
    special_category: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="fields")

    __table_args__ = (sa.UniqueConstraint("dataset_id", "name", name="uq_dataaccess_field_dataset_name"),)


class Purpose(Model):
    """A coded purpose of processing, kept by the dpo ("BAU-PRUEF": Prüfung eines Bauantrags)."""

    __tablename__ = "dataaccess_purpose"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    label: Mapped[str] = mapped_column(sa.String(200))  # plain German: the citizen reads it in their log
    description: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LegalBasis(Model):
    """A legal basis as the law cites it, kept by the dpo."""

    __tablename__ = "dataaccess_legal_basis"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(200), unique=True)  # short, e.g. "Bauordnungsrecht"
    citation: Mapped[str] = mapped_column(sa.Text)  # "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 68 SächsBO"
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AccessAgreement(Model):
    """One version of an access agreement: who may read which fields of which dataset, for what, until when.

    A version is written as a draft, then submitted and never changed again: a change is a new version with
    the same reference. The legal basis's citation is copied in, so a later rewording of the catalogue
    entry does not change what was approved.
    """

    __tablename__ = "dataaccess_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), index=True)  # DZV-2026-000001, shared by all versions
    version: Mapped[int] = mapped_column(sa.Integer)
    consumer_department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataaccess_dataset.id"), index=True)
    fields: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # field names of the dataset
    purposes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # purpose codes
    legal_basis_id: Mapped[int] = mapped_column(sa.ForeignKey("dataaccess_legal_basis.id"))
    legal_basis_citation: Mapped[str] = mapped_column(sa.Text)
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_to: Mapped[date] = mapped_column(sa.Date)
    requires_case_reference: Mapped[bool] = mapped_column(default=True)
    requires_citizen_request: Mapped[bool] = mapped_column(default=False)
    rate_limit_per_hour: Mapped[int] = mapped_column(sa.Integer)  # per official, and per machine client
    note: Mapped[str] = mapped_column(sa.Text, default="")  # why the consumer needs it; the deciders read it
    state: Mapped[str] = mapped_column(sa.String(16), default=AgreementState.DRAFT.value, index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))  # who submitted
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    steward_approval_id: Mapped[int | None] = mapped_column(sa.ForeignKey("approval_request.id"))
    dpo_approval_id: Mapped[int | None] = mapped_column(sa.ForeignKey("approval_request.id"))
    steward_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    steward_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dpo_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    dpo_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Rejected, revoked or superseded: when, by whom (None when superseded), why.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    end_reason: Mapped[str | None] = mapped_column(sa.Text)

    consumer_department = relationship("Department", foreign_keys=[consumer_department_id])
    dataset: Mapped[Dataset] = relationship()
    legal_basis: Mapped[LegalBasis] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("reference", "version", name="uq_dataaccess_agreement_version"),
        sa.CheckConstraint(_in("state", AgreementState), name="state"),
        sa.CheckConstraint("version >= 1", name="version"),
        sa.CheckConstraint("valid_to >= valid_from", name="validity"),
        sa.CheckConstraint("rate_limit_per_hour > 0", name="rate_limit"),
        sa.CheckConstraint(
            "state = 'draft' OR (requested_by_id IS NOT NULL AND submitted_at IS NOT NULL)", name="submitted"
        ),
        sa.CheckConstraint(
            "state NOT IN ('approved', 'revoked', 'superseded') OR (steward_approved_at IS NOT NULL"
            " AND dpo_approved_at IS NOT NULL AND approved_at IS NOT NULL)",
            name="both_approved",
        ),
        # Four eyes in the schema itself: neither approver is the requester, and they are two people.
        sa.CheckConstraint("steward_approved_by_id <> requested_by_id", name="steward_not_requester"),
        sa.CheckConstraint("dpo_approved_by_id <> requested_by_id", name="dpo_not_requester"),
        sa.CheckConstraint("steward_approved_by_id <> dpo_approved_by_id", name="two_approvers"),
        sa.Index(
            "uq_dataaccess_agreement_open",
            "reference",
            unique=True,
            postgresql_where=sa.text("state IN ('draft', 'submitted')"),
            sqlite_where=sa.text("state IN ('draft', 'submitted')"),
        ),
        sa.Index(
            "uq_dataaccess_agreement_in_force",
            "reference",
            unique=True,
            postgresql_where=sa.text("state = 'approved'"),
            sqlite_where=sa.text("state = 'approved'"),
        ),
    )

    @property
    def label(self) -> str:
        return f"{self.reference} v{self.version}"

    def status_on(self, day: date) -> str:
        """The state as people read it on `day` (Berlin): see `agreement_status`."""
        return agreement_status(self.state, self.valid_from, self.valid_to, day)


def agreement_status(state: str, valid_from: date, valid_to: date, day: date) -> str:
    """An approved version is also "not_in_force" before valid_from and "expired" after valid_to."""
    if state != AgreementState.APPROVED:
        return state
    if day < valid_from:
        return "not_in_force"
    if day > valid_to:
        return "expired"
    return state


class DatasetRecord(Model):
    """A record of a dataset kept in the portal itself (datasets with a provider function are not stored here).

    `record_key` is the owner's own key (a permit number), so loading the same records again updates them.
    """

    __tablename__ = "dataaccess_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataaccess_dataset.id"))
    record_key: Mapped[str] = mapped_column(sa.String(100))
    subject_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    subject_reference: Mapped[str | None] = mapped_column(sa.String(100))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("dataset_id", "record_key", name="uq_dataaccess_record_key"),
        sa.CheckConstraint("(subject_user_id IS NULL) <> (subject_reference IS NULL)", name="one_subject"),
        sa.Index("ix_dataaccess_record_user", "dataset_id", "subject_user_id"),
        sa.Index("ix_dataaccess_record_reference", "dataset_id", "subject_reference"),
    )


class CitizenRequest(Model):
    """The citizen asks that one department fetch a dataset from another for a purpose (once-only).

    Standing requests hold until revoked; a one-off request is used up by the first access it allows.
    """

    __tablename__ = "dataaccess_citizen_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    consumer_department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataaccess_dataset.id"))
    purpose_code: Mapped[str] = mapped_column(sa.String(40))
    standing: Mapped[bool] = mapped_column(default=False)
    case_reference: Mapped[str | None] = mapped_column(sa.String(60))  # one-off: the case it was asked for
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consumer_department = relationship("Department")
    dataset: Mapped[Dataset] = relationship()

    __table_args__ = (
        sa.CheckConstraint("NOT standing OR used_at IS NULL", name="standing_not_used"),
        sa.Index("ix_dataaccess_citizen_request_lookup", "user_id", "dataset_id", "consumer_department_id"),
    )


class AccessClient(Model):
    """A machine client's API token bound to the department it reads for (and optionally one agreement)."""

    __tablename__ = "dataaccess_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_token.id"), unique=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    agreement_reference: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    department = relationship("Department")


class AccessLog(Model):
    """One access or refused attempt, for fast listing by subject, official, client or department.

    Written in the same transaction as its audit event, whose seq it stores: the audit trail is the
    tamper-evident record (hash chain, signed checkpoints), this table the index the pages read.
    """

    __tablename__ = "dataaccess_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Rows written before migration 0035 name their event by seq; later ones by its key (the access only queues
    # the event, the sequencer gives it its seq after the commit). `seq` below reads either.
    audit_seq: Mapped[int | None] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.ForeignKey("audit_event.seq"), unique=True
    )
    audit_event_key: Mapped[str | None] = mapped_column(sa.String(32), unique=True, index=True)
    outcome: Mapped[str] = mapped_column(sa.String(8))
    refusal_code: Mapped[str | None] = mapped_column(sa.String(40))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))  # user, client, system, anonymous
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    actor_token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_token.id"))
    consumer_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    owner_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    agreement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dataaccess_agreement.id"))
    agreement_reference: Mapped[str | None] = mapped_column(sa.String(40))  # as asked, even when unknown
    agreement_version: Mapped[int | None] = mapped_column(sa.Integer)
    dataset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dataaccess_dataset.id"))
    subject_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    subject_reference: Mapped[str | None] = mapped_column(sa.String(100))
    fields: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # returned (granted) or asked for (refused)
    record_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    purpose_code: Mapped[str | None] = mapped_column(sa.String(40))
    purpose: Mapped[str | None] = mapped_column(sa.String(200))  # the purpose's label at the time
    legal_basis: Mapped[str | None] = mapped_column(sa.Text)  # the agreement's citation
    case_reference: Mapped[str | None] = mapped_column(sa.String(60))
    # Set on the reads (and refused attempts) of a break-glass session: the citizen sees "Notfallzugriff".
    breakglass_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dataaccess_breakglass.id"), index=True)

    dataset: Mapped[Dataset | None] = relationship()
    agreement: Mapped[AccessAgreement | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("outcome", AccessOutcome), name="outcome"),
        sa.CheckConstraint(
            "(outcome = 'granted' AND refusal_code IS NULL) OR (outcome = 'refused' AND refusal_code IS NOT NULL)",
            name="refusal_code",
        ),
        sa.CheckConstraint("audit_seq IS NOT NULL OR audit_event_key IS NOT NULL", name="audit_event_named"),
        sa.Index("ix_dataaccess_access_log_subject", "subject_user_id", "occurred_at"),
        sa.Index("ix_dataaccess_access_log_official", "actor_user_id", "occurred_at"),
        sa.Index("ix_dataaccess_access_log_client", "actor_token_id", "occurred_at"),
        sa.Index("ix_dataaccess_access_log_consumer", "consumer_department_id", "occurred_at"),
    )


class BreakGlassCategory(enum.StrEnum):
    """Why an official may read without an agreement; the list is fixed (see dataaccess.services.breakglass)."""

    DANGER_TO_LIFE = "danger_to_life"  # Gefahr für Leib oder Leben
    PUBLIC_SAFETY = "public_safety"  # unmittelbar drohende Gefahr für die öffentliche Sicherheit
    COURT_ORDER = "court_order"  # gerichtliche Anordnung


class ReviewFinding(enum.StrEnum):
    OPEN = "open"  # the dpo has not looked at it yet
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"


class BreakGlassSession(Model):
    """An emergency access ("Notfallzugriff"): one official of the consuming department may read one dataset
    without an agreement until `expires_at`, for a stated category and reason. Opening it alerts the owning
    department's data stewards and the dpo; the dpo closes its review with a finding.

    Every read in it goes through dataaccess.services.access.read and is logged with `breakglass_id`.
    """

    __tablename__ = "dataaccess_breakglass"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)  # the official
    consumer_department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataaccess_dataset.id"))
    category: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.Text)
    case_reference: Mapped[str | None] = mapped_column(sa.String(60))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # ended early by the official
    finding: Mapped[str] = mapped_column(sa.String(16), default=ReviewFinding.OPEN.value, index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(sa.Text)

    user = relationship("User", foreign_keys=[user_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    consumer_department = relationship("Department")
    dataset: Mapped[Dataset] = relationship()

    __table_args__ = (
        sa.CheckConstraint(_in("category", BreakGlassCategory), name="category"),
        sa.CheckConstraint(_in("finding", ReviewFinding), name="finding"),
        sa.CheckConstraint("expires_at > opened_at", name="time_box"),
        # A finding names who gave it, when and why; and the official never reviews their own emergency.
        sa.CheckConstraint(
            "(finding = 'open' AND reviewed_at IS NULL) OR (finding <> 'open' AND reviewed_by_id IS NOT NULL"
            " AND reviewed_at IS NOT NULL AND review_note IS NOT NULL)",
            name="review",
        ),
        sa.CheckConstraint("reviewed_by_id <> user_id", name="not_own_review"),
    )

    def is_active(self, now: datetime) -> bool:
        """Open for reads: not ended and its time box not run out."""
        return self.ended_at is None and as_utc(self.expires_at) > now
