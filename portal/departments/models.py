"""Departments (Ämter), their locations and the service catalogue every blueprint shares."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class Department(Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locations: Mapped[list[Location]] = relationship(back_populates="department", order_by="Location.name")


class Location(Model):
    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    street: Mapped[str] = mapped_column(sa.String(200))
    postcode: Mapped[str] = mapped_column(sa.String(10))
    city: Mapped[str] = mapped_column(sa.String(100))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    # A line for citizens (entrance, accessibility, "Do bis 18 Uhr nur mit Termin"). Opening hours are not kept
    # here: the appointments service's structured intervals are their only source (0036).
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    department: Mapped[Department] = relationship(back_populates="locations")

    __table_args__ = (
        sa.CheckConstraint("latitude is null or (latitude between -90 and 90)", name="latitude"),
        sa.CheckConstraint("longitude is null or (longitude between -180 and 180)", name="longitude"),
    )

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"


class CatalogueService(Model):
    """An entry of the city's service catalogue (Leistung), owned by one department."""

    __tablename__ = "catalogue_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    # LeiKa key (Leistungskatalog der öffentlichen Verwaltung), 14 digits, optional.
    leika_key: Mapped[str | None] = mapped_column(sa.String(14))
    active: Mapped[bool] = mapped_column(default=True)
    # English texts; empty means the German one is shown (see portal.departments.texts).
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    description_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # What to bring, one item a line, as citizens read it before the visit.
    bring: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    bring_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # What the service costs, for information: "unknown" (not said), "free", "fixed" (fee_cents), "varies".
    # The fee actually charged online is the payments service's (appointments' ServiceFee); this is what the
    # citizen reads when choosing, also where payments is switched off.
    fee_kind: Mapped[str] = mapped_column(sa.String(8), default="unknown", server_default="unknown")
    fee_cents: Mapped[int | None] = mapped_column()
    department: Mapped[Department] = relationship()

    __table_args__ = (
        sa.CheckConstraint("fee_kind in ('unknown', 'free', 'fixed', 'varies')", name="fee_kind"),
        sa.CheckConstraint(
            "(fee_kind = 'fixed' and fee_cents is not null and fee_cents > 0)"
            " or (fee_kind <> 'fixed' and fee_cents is null)",
            name="fee_cents_only_fixed",
        ),
    )
