"""Sondernutzung: the catalogue (use types, the street-to-zone list, tariff versions, exemption reasons) and the
permit case (`PermitApplication`) with its attachments.

Invariants the database keeps, so that no code path and no race can break them:
- money is integer cents >= 0; a rate is > 0; an exemption takes 1-100 % of the usage fee;
- one tariff version per effective date, one rate per (tariff, use type, zone, unit);
- one zone entry per folded street name (`name_key`, see portal.maps.normalise.street_key);
- a case's reference is unique and set from submission on; its period ends on or after it begins, set-up
  before the period and tear-down after it; its area is > 0 when given;
- a submitted case keeps the tariff version and the fee computed at submission (`tariff_id`, `fee_cents`), so a
  new tariff taking effect before the decision does not change what the applicant was shown.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow

CODE_MAX = 40
NAME_MAX = 200
MAX_ZONE = 9


class DurationUnit(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class PermitState(enum.StrEnum):
    """A case's states; which may follow which is in permits.rules (the one place for transitions)."""

    DRAFT = "draft"  # the applicant is still filling in the form; saved, not sent
    SUBMITTED = "submitted"  # sent, with a reference and the fee computed under the tariff of that day
    FORMAL_CHECK = "formal_check"  # a clerk checks the application is complete
    DOCUMENTS_REQUESTED = "documents_requested"  # the clerk asked the applicant for missing documents
    CONSULTATION = "consultation"  # other offices are asked for their statements
    GRANTED = "granted"  # the permit is decided, with its conditions
    REFUSED = "refused"  # refused, with reasons
    FEE_NOTICE = "fee_notice"  # the fee notice with its Kassenzeichen is out; waiting for the money
    PAID = "paid"
    ACTIVE = "active"  # in force: paid (or exempt) and its period has begun
    EXTENDED = "extended"  # in force with a later end than first granted
    ENDED = "ended"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"  # the applicant withdrew it before a decision


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} in ({', '.join(repr(v.value) for v in values)})"


class UseType(Model):
    """A kind of special use of a public road (Gerüst, Container, Freisitz, ...) and what it requires."""

    __tablename__ = "permit_use_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(CODE_MAX), unique=True)  # "container": the API's name for it
    name_de: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    name_en: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    # The unit the fee is charged per (rates exist per unit; the use type says which one applies).
    unit: Mapped[str] = mapped_column(sa.String(8), default=DurationUnit.DAY.value)
    lead_working_days: Mapped[int] = mapped_column(sa.Integer, default=10)
    # Attachment kinds an application of this type must carry (permits.attachments.KINDS).
    required_attachments: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Events: set-up and tear-down days before and after the period count as occupied.
    has_setup_teardown: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)  # order in the catalogue

    __table_args__ = (
        sa.CheckConstraint(_in("unit", DurationUnit), name="unit"),
        sa.CheckConstraint("lead_working_days >= 0 AND lead_working_days <= 250", name="lead_time"),
    )

    def name(self, locale: str = "de") -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name_de


class StreetZone(Model):
    """The department's street-to-zone list: which fee zone a street lies in (zone 1: the city centre)."""

    __tablename__ = "permit_street_zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))  # as the department writes it
    # Folded for lookup: "Markt", "MARKT", "Hauptstr." and "Hauptstraße" find their entries.
    name_key: Mapped[str] = mapped_column(sa.String(NAME_MAX), unique=True)
    zone: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint(f"zone >= 1 AND zone <= {MAX_ZONE}", name="zone"),)


class Tariff(Model):
    """A tariff version of the statute (Sondernutzungssatzung), in force from `effective_from` until the next.

    Versions are never edited once a case used them; a new statute is a new version.
    """

    __tablename__ = "permit_tariff"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(sa.Date, unique=True)
    statute: Mapped[str] = mapped_column(sa.String(NAME_MAX), default="")  # "Sondernutzungssatzung vom …"
    minimum_fee_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    administrative_fee_cents: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    rates: Mapped[list[TariffRate]] = relationship(
        back_populates="tariff", cascade="all, delete-orphan", order_by="TariffRate.id"
    )

    __table_args__ = (
        sa.CheckConstraint("minimum_fee_cents >= 0", name="minimum"),
        sa.CheckConstraint("administrative_fee_cents >= 0", name="administrative_fee"),
    )


class TariffRate(Model):
    """Cents per m² and unit for one use type in one zone; a minimum of its own overrides the tariff's."""

    __tablename__ = "permit_tariff_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_id: Mapped[int] = mapped_column(sa.ForeignKey("permit_tariff.id"), index=True)
    use_type_id: Mapped[int] = mapped_column(sa.ForeignKey("permit_use_type.id"))
    zone: Mapped[int] = mapped_column(sa.Integer)
    unit: Mapped[str] = mapped_column(sa.String(8))
    rate_cents: Mapped[int] = mapped_column(sa.Integer)
    minimum_fee_cents: Mapped[int | None] = mapped_column(sa.Integer)

    tariff: Mapped[Tariff] = relationship(back_populates="rates")
    use_type: Mapped[UseType] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("tariff_id", "use_type_id", "zone", "unit", name="uq_permit_tariff_rate_key"),
        sa.CheckConstraint("rate_cents > 0", name="rate_positive"),
        sa.CheckConstraint("minimum_fee_cents is null or minimum_fee_cents >= 0", name="minimum"),
        sa.CheckConstraint(f"zone >= 1 AND zone <= {MAX_ZONE}", name="zone"),
        sa.CheckConstraint(_in("unit", DurationUnit), name="unit"),
    )


class ExemptionReason(Model):
    """Why a use may be exempt from the fee (charitable use, ...) and how much of it is waived."""

    __tablename__ = "permit_exemption_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(CODE_MAX), unique=True)
    name_de: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    name_en: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    percent: Mapped[int] = mapped_column(sa.Integer, default=100)  # share of the usage fee waived
    # The administrative fee is charged under other law; only reasons that say so waive it too.
    covers_administrative_fee: Mapped[bool] = mapped_column(default=False)
    proof_required: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (sa.CheckConstraint("percent >= 1 AND percent <= 100", name="percent"),)

    def name(self, locale: str = "de") -> str:
        return self.name_en if locale.startswith("en") and self.name_en else self.name_de


class PermitApplication(Model):
    """One case: the application as filled in, its state, and the fee fixed at submission."""

    __tablename__ = "permit_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)  # in URLs; unguessable
    reference: Mapped[str | None] = mapped_column(sa.String(24), unique=True)  # SNU-2026-000042 once submitted
    state: Mapped[str] = mapped_column(sa.String(24), default=PermitState.DRAFT.value, index=True)
    # The person who applies; with organisation_id set they act for that business, which then owns the case.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))

    # Applicant and the person responsible on site.
    applicant_name: Mapped[str] = mapped_column(sa.String(NAME_MAX), default="")
    applicant_email: Mapped[str] = mapped_column(sa.String(254), default="")
    applicant_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    applicant_address: Mapped[str] = mapped_column(sa.String(300), default="")
    responsible_name: Mapped[str] = mapped_column(sa.String(NAME_MAX), default="")
    responsible_phone: Mapped[str] = mapped_column(sa.String(40), default="")

    # What, where, how large, when.
    use_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("permit_use_type.id"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    street: Mapped[str] = mapped_column(sa.String(NAME_MAX), default="")
    house_number: Mapped[str] = mapped_column(sa.String(12), default="")
    zone: Mapped[int | None] = mapped_column(sa.Integer)  # from the street-to-zone list when last checked
    location_geojson: Mapped[str | None] = mapped_column(sa.Text)  # a Point or Polygon (WGS84)
    length_cm: Mapped[int | None] = mapped_column(sa.Integer)
    width_cm: Mapped[int | None] = mapped_column(sa.Integer)
    # Square decimetres (0.01 m²): integers keep the area exact on every database.
    area_dm2: Mapped[int | None] = mapped_column(sa.Integer)
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)  # inclusive
    setup_from: Mapped[date | None] = mapped_column(sa.Date)  # events only
    teardown_until: Mapped[date | None] = mapped_column(sa.Date)
    carriageway_affected: Mapped[bool] = mapped_column(default=False)
    footway_affected: Mapped[bool] = mapped_column(default=False)
    traffic_order_requested: Mapped[bool] = mapped_column(default=False)
    exemption_reason_id: Mapped[int | None] = mapped_column(sa.ForeignKey("permit_exemption_reason.id"))
    exemption_note: Mapped[str] = mapped_column(sa.String(1000), default="")

    # Fixed at submission.
    tariff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("permit_tariff.id"))
    fee_cents: Mapped[int | None] = mapped_column(sa.Integer)
    fee_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)

    # The clerk's side (permits.services.desk, .decisions): the note asking for documents (shown to the
    # applicant), when the formal check found the application complete, the decision and its validity.
    request_note: Mapped[str] = mapped_column(sa.String(1000), default="", server_default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conditions: Mapped[str] = mapped_column(sa.Text, default="", server_default="")  # Nebenbestimmungen
    decision_reasons: Mapped[str] = mapped_column(sa.Text, default="", server_default="")  # of a refusal
    valid_from: Mapped[date | None] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)  # inclusive
    # The fee notice's payment order (payments service), by its public id and Kassenzeichen.
    payment_public_id: Mapped[str | None] = mapped_column(sa.String(32))
    kassenzeichen: Mapped[str | None] = mapped_column(sa.String(32))
    # An extension request names the permit it extends.
    extends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("permit_application.id"), index=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    use_type: Mapped[UseType | None] = relationship()
    tariff: Mapped[Tariff | None] = relationship()
    exemption_reason: Mapped[ExemptionReason | None] = relationship()
    attachments: Mapped[list[PermitAttachment]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="PermitAttachment.id"
    )
    documents: Mapped[list[PermitDocument]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="PermitDocument.id"
    )
    extends: Mapped[PermitApplication | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint(_in("state", PermitState), name="state"),
        sa.CheckConstraint("starts_on is null or ends_on is null or ends_on >= starts_on", name="period"),
        sa.CheckConstraint("setup_from is null or starts_on is null or setup_from <= starts_on", name="setup"),
        sa.CheckConstraint("teardown_until is null or ends_on is null or teardown_until >= ends_on", name="teardown"),
        sa.CheckConstraint("area_dm2 is null or area_dm2 > 0", name="area_positive"),
        sa.CheckConstraint("length_cm is null or length_cm > 0", name="length_positive"),
        sa.CheckConstraint("width_cm is null or width_cm > 0", name="width_positive"),
        sa.CheckConstraint("fee_cents is null or fee_cents >= 0", name="fee"),
        sa.CheckConstraint("valid_from is null or valid_until is null or valid_until >= valid_from", name="validity"),
        sa.CheckConstraint("state = 'draft' or reference is not null", name="reference_when_submitted"),
        sa.CheckConstraint(
            "state in ('draft', 'withdrawn') or (tariff_id is not null and fee_cents is not null)",
            name="fee_when_submitted",
        ),
    )

    @property
    def attached_kinds(self) -> set[str]:
        return {attachment.kind for attachment in self.attachments}


class PermitAttachment(Model):
    """A document attached to a case (site plan, traffic-sign plan, photo, insurance, proof of exemption)."""

    __tablename__ = "permit_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("permit_application.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(CODE_MAX))
    file_key: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("stored_file.key"), unique=True)
    added_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[PermitApplication] = relationship(back_populates="attachments")


class DocumentKind(enum.StrEnum):
    PERMIT = "permit"  # Sondernutzungserlaubnis with conditions, validity and Rechtsbehelfsbelehrung
    REFUSAL = "refusal"  # Ablehnungsbescheid with reasons
    FEE_NOTICE = "fee_notice"  # Gebührenbescheid with the Kassenzeichen


class PermitDocument(Model):
    """A decision document of a case as the PDF sent: made once, in the decision's transaction, never changed."""

    __tablename__ = "permit_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("permit_application.id"))
    kind: Mapped[str] = mapped_column(sa.String(24))
    filename: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[PermitApplication] = relationship(back_populates="documents")

    __table_args__ = (
        sa.UniqueConstraint("application_id", "kind", name="uq_permit_document_kind"),
        sa.CheckConstraint(_in("kind", DocumentKind), name="kind"),
    )


class Verdict(enum.StrEnum):
    AGREE = "agree"  # Zustimmung
    CONDITIONS = "conditions"  # Zustimmung mit Auflagen
    OBJECT = "object"  # Einwände


class PermitStatement(Model):
    """Another department's statement (Stellungnahme) on a case: the clerk's question and due date, then the
    asked department's answer. Only members of that department answer; an answer is final (a second answer
    would silently change what the clerk decided on)."""

    __tablename__ = "permit_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("permit_application.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)  # the asked one
    question: Mapped[str] = mapped_column(sa.Text)
    due_on: Mapped[date] = mapped_column(sa.Date)
    requested_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verdict: Mapped[str | None] = mapped_column(sa.String(16))
    answer: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    conditions: Mapped[str] = mapped_column(sa.Text, default="", server_default="")  # carried into the permit
    answered_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[PermitApplication] = relationship()
    department = relationship("Department")

    __table_args__ = (
        sa.CheckConstraint("verdict is null or " + _in("verdict", Verdict), name="verdict"),
        sa.CheckConstraint(
            "(verdict is null and answered_at is null) or (verdict is not null and answered_at is not null)",
            name="answered",
        ),
        sa.CheckConstraint("verdict = 'conditions' or conditions = ''", name="conditions_only_with_verdict"),
    )
