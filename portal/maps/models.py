"""The city's street list: what offline geocoding matches against, kept up to date by `flask maps import-streets`."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class Street(Model):
    """One street, or one segment of a long street (same name, its own postcode or house-number range)."""

    __tablename__ = "street"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The city's street key (Straßenschlüssel) when it has one; otherwise derived from name, postcode and range.
    # Imports upsert by it, so running the same file twice changes nothing.
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # The name folded for matching (lower case, umlauts and ß spelled out, "Str." as "strasse", no punctuation).
    name_key: Mapped[str] = mapped_column(sa.String(200), index=True)
    postcode: Mapped[str] = mapped_column(sa.String(5))
    district: Mapped[str] = mapped_column(sa.String(100), default="")
    number_from: Mapped[int | None] = mapped_column(sa.Integer)
    number_to: Mapped[int | None] = mapped_column(sa.Integer)
    # A point on the street (the middle of its line when it has one): the answer when no house number helps.
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    # GeoJSON LineString (WGS84, [lon, lat]) from the first to the last house number, for interpolation.
    line: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("latitude between -90 and 90", name="latitude"),
        sa.CheckConstraint("longitude between -180 and 180", name="longitude"),
        sa.CheckConstraint(
            "number_from is null or number_to is null or (number_from >= 0 and number_from <= number_to)",
            name="number_range",
        ),
    )

    @property
    def label(self) -> str:
        place = f"{self.postcode} {self.district}".strip()
        return f"{self.name}, {place}" if place else self.name
