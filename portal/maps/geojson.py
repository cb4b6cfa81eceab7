"""GeoJSON in and out: parse and check what a browser or a client sends, and write stored geometry back out.

Accepted: a bare Point or Polygon (LineString where a caller allows it), a Feature holding one, or a
FeatureCollection of such Features. Checked: the JSON itself, the size, WGS84 ranges, the city's bounding box,
closed and non-degenerate rings that do not cross themselves, and a cap on vertices. Stored as GeoJSON text in
an ordinary Text column (no PostGIS), written by `Geometry.to_json()` and read back with `parse_geometry()`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from portal.maps import geo

MAX_TEXT_LENGTH = 200_000  # characters of GeoJSON text; a drawn area needs a few hundred
MAX_FEATURES = 100
DEFAULT_MAX_VERTICES = 200
MAX_RINGS = 10
DECIMALS = 7  # about a centimetre

Bounds = tuple[float, float, float, float]  # south, west, north, east
POINT, LINESTRING, POLYGON = "Point", "LineString", "Polygon"
DEFAULT_TYPES = (POINT, POLYGON)


class GeoJSONError(ValueError):
    """What is wrong with the GeoJSON, in words for the person who sent it; `code` for API clients."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Geometry:
    """A checked Point, LineString or Polygon. Coordinates are (lon, lat) as in GeoJSON."""

    type: str
    coordinates: Any  # Point: (lon, lat); LineString: tuple of positions; Polygon: tuple of rings
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_geojson(self) -> dict[str, Any]:
        return {"type": self.type, "coordinates": _as_lists(self.coordinates)}

    def to_json(self) -> str:
        """Compact GeoJSON text of the bare geometry: what is stored."""
        return json.dumps(self.to_geojson(), separators=(",", ":"))

    def to_feature(self, properties: Mapping[str, Any] | None = None) -> dict[str, Any]:
        merged = {**self.properties, **(properties or {})}
        return {"type": "Feature", "geometry": self.to_geojson(), "properties": merged}

    @property
    def positions(self) -> list[geo.Position]:
        if self.type == POINT:
            return [self.coordinates]
        if self.type == LINESTRING:
            return list(self.coordinates)
        return [position for ring in self.coordinates for position in ring[:-1]]

    @property
    def vertex_count(self) -> int:
        return len(self.positions)

    @property
    def area_m2(self) -> float:
        """Area in square metres; 0 for points and lines."""
        return geo.polygon_area_m2(self.coordinates) if self.type == POLYGON else 0.0

    @property
    def centre(self) -> tuple[float, float]:
        """(lat, lon) of a representative point: the point itself, a line's middle, a polygon's vertex average."""
        if self.type == POINT:
            lon, lat = self.coordinates
        elif self.type == LINESTRING:
            lon, lat = geo.point_along(self.coordinates, 0.5)
        else:
            ring = self.coordinates[0][:-1]
            lon, lat = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
        return lat, lon

    @property
    def bounds(self) -> Bounds:
        positions = self.positions
        lats = [p[1] for p in positions]
        lons = [p[0] for p in positions]
        return min(lats), min(lons), max(lats), max(lons)


def point(lat: float, lon: float) -> Geometry:
    return Geometry(POINT, (round(float(lon), DECIMALS), round(float(lat), DECIMALS)))


_NUMBER = re.compile(r"[-+]?\d{1,3}(?:[.,]\d+)?")


def parse_coordinates(text: str, bounds: Bounds | None = None) -> Geometry:
    """A point from typed coordinates, latitude first: "51.0504, 13.7373", "51,0504 13,7373", "N 51.05 E 13.74".

    When only the swapped pair lies inside `bounds`, the numbers were typed the other way round and are swapped.
    """
    numbers = [float(n.replace(",", ".")) for n in _NUMBER.findall((text or "")[:100].replace("−", "-"))]
    if len(numbers) != 2:
        raise GeoJSONError(
            _("Geben Sie die Koordinaten als Breite und Länge ein, zum Beispiel 51.0504, 13.7373."), "coordinates"
        )
    lat, lon = numbers
    if bounds is not None and not _inside(lat, lon, bounds) and _inside(lon, lat, bounds):
        lat, lon = lon, lat
    return Geometry(POINT, _position([lon, lat], bounds))


def _inside(lat: float, lon: float, bounds: Bounds) -> bool:
    south, west, north, east = bounds
    return south <= lat <= north and west <= lon <= east


def feature_collection(items: Iterable[Geometry | dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection of geometries (their properties kept) or of ready Features."""
    features = [item.to_feature() if isinstance(item, Geometry) else item for item in items]
    return {"type": "FeatureCollection", "features": features}


def parse_geometry(
    value: str | bytes | Mapping[str, Any],
    *,
    types: Sequence[str] = DEFAULT_TYPES,
    bounds: Bounds | None = None,
    max_vertices: int = DEFAULT_MAX_VERTICES,
) -> Geometry:
    """Exactly one geometry (bare, a Feature, or a FeatureCollection of one); GeoJSONError otherwise."""
    found = parse_geojson(value, types=types, bounds=bounds, max_vertices=max_vertices)
    if len(found) != 1:
        raise GeoJSONError(_("Erwartet wird genau ein Ort oder eine Fläche, nicht %(n)d.", n=len(found)), "count")
    return found[0]


def parse_geojson(
    value: str | bytes | Mapping[str, Any],
    *,
    types: Sequence[str] = DEFAULT_TYPES,
    bounds: Bounds | None = None,
    max_vertices: int = DEFAULT_MAX_VERTICES,
    max_features: int = MAX_FEATURES,
) -> list[Geometry]:
    """Every geometry in a GeoJSON text or object, checked; GeoJSONError with a readable message otherwise."""
    data = _load(value) if isinstance(value, str | bytes) else value
    if not isinstance(data, Mapping):
        raise GeoJSONError(_("GeoJSON muss ein Objekt mit einem „type“ sein."), "not_object")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise GeoJSONError(_("Eine FeatureCollection braucht eine Liste „features“."), "invalid")
        if len(features) > max_features:
            raise GeoJSONError(
                _("Höchstens %(max)d Objekte sind erlaubt, nicht %(n)d.", max=max_features, n=len(features)),
                "too_many_features",
            )
        return [_feature(item, types, bounds, max_vertices) for item in features]
    if kind == "Feature":
        return [_feature(data, types, bounds, max_vertices)]
    return [_geometry(data, types, bounds, max_vertices, {})]


def _load(value: str | bytes) -> Any:
    if len(value) > MAX_TEXT_LENGTH:
        raise GeoJSONError(
            _("Die Geodaten sind zu groß (höchstens %(max)d Zeichen).", max=MAX_TEXT_LENGTH), "too_large"
        )
    try:
        return json.loads(value, parse_constant=_refuse_constant)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise GeoJSONError(_("Die Geodaten sind kein gültiges JSON."), "not_json") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _feature(data: Any, types: Sequence[str], bounds: Bounds | None, max_vertices: int) -> Geometry:
    if not isinstance(data, Mapping) or data.get("type") != "Feature":
        raise GeoJSONError(_("Jedes Objekt einer FeatureCollection muss ein Feature sein."), "invalid")
    properties = data.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise GeoJSONError(_("Die „properties“ eines Features müssen ein Objekt sein."), "invalid")
    geometry = data.get("geometry")
    if not isinstance(geometry, Mapping):
        raise GeoJSONError(_("Das Feature hat keine Geometrie."), "no_geometry")
    return _geometry(geometry, types, bounds, max_vertices, dict(properties))


def _geometry(
    data: Mapping[str, Any], types: Sequence[str], bounds: Bounds | None, max_vertices: int, properties: dict
) -> Geometry:
    kind = data.get("type")
    if kind not in types:
        allowed = ", ".join(types)
        raise GeoJSONError(
            _(
                "Der Geometrietyp „%(type)s“ ist hier nicht möglich (erlaubt: %(allowed)s).",
                type=str(kind)[:40],
                allowed=allowed,
            ),
            "type",
        )
    coordinates = data.get("coordinates")
    if kind == POINT:
        return Geometry(POINT, _position(coordinates, bounds), properties)
    if kind == LINESTRING:
        line = _positions(coordinates, bounds, max_vertices)
        if len(line) < 2:
            raise GeoJSONError(_("Eine Linie braucht mindestens zwei Punkte."), "degenerate")
        return Geometry(LINESTRING, tuple(line), properties)
    return Geometry(POLYGON, _polygon(coordinates, bounds, max_vertices), properties)


def _position(value: Any, bounds: Bounds | None) -> geo.Position:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise GeoJSONError(_("Eine Position besteht aus Länge und Breite: [13.7373, 51.0504]."), "position")
    if not all(isinstance(number, int | float) and not isinstance(number, bool) for number in value):
        raise GeoJSONError(_("Koordinaten müssen Zahlen sein."), "position")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeoJSONError(
            _("Die Koordinaten liegen außerhalb des gültigen Bereichs (Länge −180 bis 180, Breite −90 bis 90)."),
            "out_of_range",
        )
    if bounds is not None and not _inside(lat, lon, bounds):
        raise GeoJSONError(_("Der Ort liegt außerhalb des Stadtgebiets."), "outside_city")
    return (round(lon, DECIMALS), round(lat, DECIMALS))


def _positions(value: Any, bounds: Bounds | None, max_vertices: int) -> list[geo.Position]:
    if not isinstance(value, list | tuple):
        raise GeoJSONError(_("Die Koordinaten müssen eine Liste von Positionen sein."), "position")
    if len(value) > max_vertices + 1:
        raise GeoJSONError(
            _("Die Form hat zu viele Eckpunkte (höchstens %(max)d).", max=max_vertices), "too_many_vertices"
        )
    positions = [_position(item, bounds) for item in value]
    # A double click adds the same vertex twice; that is noise, not a shape.
    return [p for i, p in enumerate(positions) if i == 0 or p != positions[i - 1]]


def _polygon(value: Any, bounds: Bounds | None, max_vertices: int) -> tuple[tuple[geo.Position, ...], ...]:
    if not isinstance(value, list | tuple) or not value:
        raise GeoJSONError(_("Eine Fläche braucht mindestens einen Umriss."), "invalid")
    if len(value) > MAX_RINGS:
        raise GeoJSONError(_("Eine Fläche darf höchstens %(max)d Umrisse haben.", max=MAX_RINGS), "too_many_rings")
    rings = []
    total = 0
    for index, raw in enumerate(value):
        ring = _positions(raw, bounds, max_vertices)
        total += len(ring) - 1
        if total > max_vertices:
            raise GeoJSONError(
                _("Die Form hat zu viele Eckpunkte (höchstens %(max)d).", max=max_vertices), "too_many_vertices"
            )
        if len(ring) < 2 or ring[0] != ring[-1]:
            raise GeoJSONError(
                _("Der Umriss ist nicht geschlossen: der letzte Punkt muss dem ersten gleichen."), "unclosed_ring"
            )
        if len(set(ring)) < 3:
            raise GeoJSONError(_("Die Fläche braucht mindestens drei verschiedene Eckpunkte."), "degenerate")
        if geo.ring_self_intersects(ring):
            raise GeoJSONError(_("Der Umriss der Fläche überschneidet sich selbst."), "self_intersection")
        if abs(geo.signed_ring_area_m2(ring)) < 0.01:
            raise GeoJSONError(
                _("Die Fläche braucht mindestens drei Eckpunkte, die nicht auf einer Linie liegen."), "degenerate"
            )
        # RFC 7946: the exterior ring counter-clockwise, holes clockwise.
        counter_clockwise = geo.signed_ring_area_m2(ring) > 0
        if counter_clockwise != (index == 0):
            ring = ring[::-1]
        rings.append(tuple(ring))
    return tuple(rings)


def _as_lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_as_lists(item) for item in value]
    return value
