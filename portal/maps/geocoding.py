"""Offline geocoding against the city's street list: no request ever leaves the server.

    geocode("Hauptstr. 12a, 01067")   -> ranked candidates (empty: not found)
    locate("Hauptstraße 12")          -> the one address, or AddressNotFound / AddressAmbiguous
    reverse_geocode(51.05, 13.74)     -> the nearest street (with an estimated house number), or None

A house number inside the street's range is placed along the street's line (precision "address"); without a
line, a range or a number, the answer is the street's middle (precision "street"). Interpolation ignores the
odd/even sides of a street: good to a few dozen metres, which is what a form needs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.extensions import db
from portal.maps import geo
from portal.maps.geojson import Geometry, point
from portal.maps.models import Street
from portal.maps.normalise import ParsedAddress, parse_address

EXACT, PREFIX, SIMILAR = "exact", "prefix", "similar"
MIN_KEY_LENGTH = 3
SIMILARITY_CUTOFF = 0.78
MAX_PREFIX_CANDIDATES = 50
DEFAULT_REVERSE_RADIUS_M = 300.0


@dataclass(frozen=True)
class GeocodeResult:
    street_id: int
    street: str
    house_number: str | None
    postcode: str
    district: str
    lat: float
    lon: float
    precision: str  # "address": placed along the street by house number; "street": the street's middle
    match: str  # exact, prefix (typed the start of the name), similar (a likely typo)
    score: float
    number_range: tuple[int, int] | None = None
    in_range: bool | None = None  # the house number lies in the street's known range (None: not known)
    distance_m: float | None = None  # reverse geocoding: how far the asked point is from the street

    @property
    def label(self) -> str:
        """What a person reads and can type back in: "Hauptstraße 12, 01067 Altstadt"."""
        street = f"{self.street} {self.house_number}" if self.house_number else self.street
        place = f"{self.postcode} {self.district}".strip()
        return f"{street}, {place}" if place else street

    @property
    def geometry(self) -> Geometry:
        return point(self.lat, self.lon)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "street": self.street,
            "house_number": self.house_number,
            "postcode": self.postcode,
            "district": self.district,
            "lat": round(self.lat, 7),
            "lon": round(self.lon, 7),
            "precision": self.precision,
            "match": self.match,
            "score": round(self.score, 3),
        }


@dataclass
class GeocodingError(Exception):
    message: str
    code: str
    candidates: list[GeocodeResult] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class AddressNotFound(GeocodingError):  # noqa: N818 - reads better at the call site
    """No street of that name; or the house number lies outside the street's known range (code house_number)."""


class AddressAmbiguous(GeocodingError):  # noqa: N818
    """Several streets fit, or only a similar name: `candidates` are the "did you mean" answers."""


def geocode(text: str, limit: int = 5) -> list[GeocodeResult]:
    """Ranked candidates for a typed address, best first; an empty list means nothing fits."""
    parsed = parse_address(text)
    key = parsed.key
    if len(key) < MIN_KEY_LENGTH:
        return []
    candidates = _matching_streets(key)
    if parsed.postcode:
        in_postcode = [(street, how, score) for street, how, score in candidates if street.postcode == parsed.postcode]
        candidates = in_postcode or candidates
    results = [_result(street, parsed, how, score) for street, how, score in candidates]
    if parsed.number is not None and any(result.in_range for result in results):
        # A long street split into segments: the house number says which segment is meant.
        results = [result for result in results if result.in_range is not False]
    results.sort(key=lambda r: (-r.score, r.street, r.postcode, r.district, r.street_id))
    return _distinct(results)[:limit]


def locate(text: str) -> GeocodeResult:
    """The one address meant, or AddressNotFound / AddressAmbiguous carrying what to say and what to offer."""
    parsed = parse_address(text)
    if not parsed.key:
        raise AddressNotFound(_("Bitte geben Sie Straße und Hausnummer an."), "empty")
    results = geocode(text, limit=10)
    exact = [result for result in results if result.match == EXACT]
    if not results:
        raise AddressNotFound(
            _(
                "Die Straße „%(street)s“ ist im Straßenverzeichnis der Stadt nicht zu finden.",
                street=parsed.street[:80],
            ),
            "not_found",
        )
    if not exact:
        raise AddressAmbiguous(_("Meinten Sie: %(list)s?", list=_listing(results[:5])), "ambiguous", results[:5])
    if len(exact) > 1:
        raise AddressAmbiguous(
            _(
                "Diese Straße gibt es mehrmals in der Stadt. Meinten Sie: %(list)s? "
                "Geben Sie bitte die Postleitzahl mit an.",
                list=_listing(exact),
            ),
            "ambiguous",
            exact,
        )
    found = exact[0]
    if found.in_range is False and found.number_range:
        low, high = found.number_range
        raise AddressNotFound(
            _(
                "Die Hausnummer %(number)s gibt es in der %(street)s nicht (bekannt sind %(low)d bis %(high)d).",
                number=found.house_number,
                street=found.street,
                low=low,
                high=high,
            ),
            "house_number",
            [found],
        )
    return found


def reverse_geocode(lat: float, lon: float, radius_m: float = DEFAULT_REVERSE_RADIUS_M) -> GeocodeResult | None:
    """The street nearest to the point (within radius_m), with a house number estimated along its line."""
    here: geo.Position = (float(lon), float(lat))
    # A window of about ±3 km keeps the scan to the neighbourhood; long streets still reach in by their line.
    window = max(0.03, radius_m / 111_000 * 2)
    streets = db.session.scalars(
        sa.select(Street).where(
            Street.latitude.between(lat - window, lat + window),
            Street.longitude.between(lon - window * 1.6, lon + window * 1.6),
        )
    ).all()
    best: tuple[float, Street, float | None] | None = None
    for street in streets:
        line = _line(street)
        if line:
            along = geo.project_onto_line(line, here)
            found: tuple[float, Street, float | None] = (along[0], street, along[1])
        else:
            found = (geo.distance_m((street.longitude, street.latitude), here), street, None)
        if best is None or found[0] < best[0]:
            best = found
    if best is None or best[0] > radius_m:
        return None
    distance, nearest, fraction = best
    house_number = None
    if fraction is not None and nearest.number_from is not None and nearest.number_to is not None:
        house_number = str(round(nearest.number_from + fraction * (nearest.number_to - nearest.number_from)))
    return GeocodeResult(
        street_id=nearest.id,
        street=nearest.name,
        house_number=house_number,
        postcode=nearest.postcode,
        district=nearest.district,
        lat=float(lat),
        lon=float(lon),
        precision="address" if house_number else "street",
        match=EXACT,
        score=1.0,
        number_range=_range(nearest),
        in_range=True if house_number else None,
        distance_m=round(distance, 1),
    )


def _matching_streets(key: str) -> list[tuple[Street, str, float]]:
    """Streets whose key equals the typed one, starts with it, or (failing both) is similar to it."""
    rows = db.session.scalars(
        sa.select(Street)
        .where(sa.or_(Street.name_key == key, Street.name_key.like(f"{key}%")))
        .order_by(Street.name_key, Street.postcode, Street.id)
        .limit(MAX_PREFIX_CANDIDATES)
    ).all()
    found = []
    for street in rows:
        if street.name_key == key:
            found.append((street, EXACT, 1.0))
        else:
            found.append((street, PREFIX, 0.6 + 0.3 * len(key) / len(street.name_key)))
    if found:
        return found
    keys = db.session.execute(sa.select(Street.id, Street.name_key)).all()
    scored: dict[int, float] = {}
    for street_id, name_key in keys:
        ratio = difflib.SequenceMatcher(None, key, name_key).ratio()
        if ratio >= SIMILARITY_CUTOFF:
            scored[street_id] = ratio * 0.9
    best = sorted(scored.items(), key=lambda item: -item[1])[:10]
    if not best:
        return []
    streets = {s.id: s for s in db.session.scalars(sa.select(Street).where(Street.id.in_([i for i, _ in best])))}
    return [(streets[street_id], SIMILAR, score) for street_id, score in best]


def _result(street: Street, parsed: ParsedAddress, how: str, score: float) -> GeocodeResult:
    number_range = _range(street)
    in_range = None
    if parsed.number is not None and number_range is not None:
        in_range = number_range[0] <= parsed.number <= number_range[1]
    lat, lon, precision = street.latitude, street.longitude, "street"
    line = _line(street)
    if parsed.number is not None and in_range and line and number_range:
        low, high = number_range
        fraction = 0.5 if high == low else (parsed.number - low) / (high - low)
        lon, lat = geo.point_along(line, fraction)
        precision = "address"
    if parsed.postcode and street.postcode == parsed.postcode:
        score = min(1.0, score + 0.01)
    if in_range is False:
        score -= 0.05
    return GeocodeResult(
        street_id=street.id,
        street=street.name,
        house_number=parsed.house_number,
        postcode=street.postcode,
        district=street.district,
        lat=lat,
        lon=lon,
        precision=precision,
        match=how,
        score=score,
        number_range=number_range,
        in_range=in_range,
    )


def _distinct(results: Sequence[GeocodeResult]) -> list[GeocodeResult]:
    """Segments of one street in one postcode and district read the same; offer them once."""
    seen: set[tuple[str, str, str]] = set()
    distinct = []
    for result in results:
        key = (result.street, result.postcode, result.district)
        if key not in seen:
            seen.add(key)
            distinct.append(result)
    return distinct


def _listing(results: Sequence[GeocodeResult]) -> str:
    return "; ".join(result.label for result in results)


def _range(street: Street) -> tuple[int, int] | None:
    if street.number_from is None or street.number_to is None:
        return None
    return street.number_from, street.number_to


def _line(street: Street) -> list[geo.Position] | None:
    if not street.line:
        return None
    try:
        coordinates = json.loads(street.line)["coordinates"]
        return [(float(p[0]), float(p[1])) for p in coordinates]
    except (ValueError, KeyError, TypeError, IndexError):
        return None  # checked on import; an odd row falls back to the street's middle
