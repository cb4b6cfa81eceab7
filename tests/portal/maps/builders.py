"""Streets for the maps tests: a few by hand, or the demo list through the normal import."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from portal.actors import SYSTEM
from portal.extensions import db
from portal.maps.demo import demo_geojson
from portal.maps.models import Street
from portal.maps.streets import import_streets, read_street_file


def load_demo_streets() -> int:
    rows = read_street_file("demo.geojson", json.dumps(demo_geojson()).encode())
    return import_streets(SYSTEM, rows, source="test").created


def make_street(
    name: str,
    postcode: str = "01067",
    district: str = "Altstadt",
    numbers: tuple[int, int] | None = (1, 20),
    line: list[tuple[float, float]] | None = None,
    code: str | None = None,
) -> Street:
    """A street through the import service; `line` as (lat, lon) points from the first to the last number."""
    line = line or [(51.0500, 13.7370), (51.0500, 13.7400)]
    properties: dict[str, Any] = {"name": name, "postcode": postcode, "district": district, "key": code or name}
    if numbers:
        properties["number_from"], properties["number_to"] = numbers
    feature = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in line]},
        "properties": properties,
    }
    content = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    import_streets(SYSTEM, read_street_file("one.geojson", content), source="test")
    return db.session.scalars(sa.select(Street).where(Street.code == properties["key"])).one()
