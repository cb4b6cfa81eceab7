"""The city's street list: read a CSV or GeoJSON file, upsert it (idempotent, audited), list it, write it out.

CSV (comma or semicolon, UTF-8, header row):
    key;name;postcode;district;number_from;number_to;lat;lon;line
`name` and `postcode` are required; `lat`/`lon` unless `line` (a GeoJSON LineString) is given; `key` is the city's
street key (Straßenschlüssel) and is derived from name, postcode and number_from when empty.
GeoJSON: a FeatureCollection of Point or LineString features with the same names as properties.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

import portal.maps.actions  # noqa: F401  (declares maps.streets_imported)
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.maps import geojson
from portal.maps.models import Street
from portal.maps.normalise import clean, street_key
from portal.maps.settings import current as current_settings
from portal.timeutil import utcnow
from portal.transaction import transaction

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
MAX_LINE_VERTICES = 500
FIELDS = ("code", "name", "postcode", "district", "number_from", "number_to", "latitude", "longitude", "line")
ALIASES = {"key": "code", "schluessel": "code", "lat": "latitude", "lon": "longitude", "lng": "longitude"}


class StreetImportError(Exception):
    """The file cannot be imported; `errors` name the rows ("Zeile 7: …"). Nothing was changed."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class StreetRow:
    code: str
    name: str
    postcode: str
    district: str
    number_from: int | None
    number_to: int | None
    latitude: float
    longitude: float
    line: str | None

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "name_key": street_key(self.name),
            "postcode": self.postcode,
            "district": self.district,
            "number_from": self.number_from,
            "number_to": self.number_to,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "line": self.line,
        }


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def _allowed(actor: Actor) -> None:
    if actor.kind != "system" and not actor.has_role("platform_admin"):
        raise Forbidden()


def read_street_file(filename: str, content: bytes) -> list[StreetRow]:
    """Parse a .csv or .geojson/.json street file; StreetImportError lists every row that is wrong."""
    if len(content) > MAX_FILE_BYTES:
        raise StreetImportError([f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StreetImportError(["file is not UTF-8 text"]) from None
    if filename.lower().endswith((".geojson", ".json")):
        records = _geojson_records(text)
    elif filename.lower().endswith(".csv"):
        records = _csv_records(text)
    else:
        raise StreetImportError([f"{filename}: expected a .csv or .geojson file"])
    rows: list[StreetRow] = []
    errors: list[str] = []
    codes: dict[str, str] = {}
    for where, record in records:
        try:
            row = _row(record)
        except ValueError as error:
            errors.append(f"{where}: {error}")
            continue
        if row.code in codes:
            errors.append(f"{where}: key {row.code!r} already used by {codes[row.code]}")
            continue
        codes[row.code] = where
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise StreetImportError([f"more than {MAX_ROWS} streets"])
    if errors:
        raise StreetImportError(errors)
    if not rows:
        raise StreetImportError(["no streets in the file"])
    return rows


def import_streets(
    actor: Actor, rows: Iterable[StreetRow], *, source: str, remove_missing: bool = False
) -> ImportSummary:
    """Upsert the streets by key in one transaction; with remove_missing, delete streets not in `rows`.

    Idempotent: importing the same rows again changes nothing and writes no audit event.
    """
    _allowed(actor)
    rows = list(rows)
    with transaction():
        existing = {street.code: street for street in db.session.scalars(sa.select(Street))}
        created = updated = unchanged = 0
        for row in rows:
            values = row.values()
            street = existing.get(row.code)
            if street is None:
                db.session.add(Street(code=row.code, updated_at=utcnow(), **values))
                created += 1
            elif any(getattr(street, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(street, name, value)
                street.updated_at = utcnow()
                updated += 1
            else:
                unchanged += 1
        removed = 0
        if remove_missing:
            keep = {row.code for row in rows}
            for code, street in existing.items():
                if code not in keep:
                    db.session.delete(street)
                    removed += 1
        summary = ImportSummary(created, updated, unchanged, removed)
        if summary.changed:
            audit.record(
                "maps.streets_imported",
                actor,
                target_type="street",
                source=source[:200],
                created=created,
                updated=updated,
                unchanged=unchanged,
                removed=removed,
            )
    return summary


def list_streets(search: str | None = None) -> list[Street]:
    """The street list in name order; `search` keeps the streets whose folded name contains it."""
    query = sa.select(Street).order_by(Street.name_key, Street.postcode, Street.number_from, Street.id)
    if search:
        key = street_key(search)
        if key:
            query = query.where(Street.name_key.contains(key))
    return list(db.session.scalars(query))


def streets_geojson(streets: Iterable[Street]) -> dict[str, Any]:
    """The streets as a FeatureCollection (lines where known, else points): what import-streets reads back."""
    features = []
    for street in streets:
        geometry = (
            json.loads(street.line) if street.line else geojson.point(street.latitude, street.longitude).to_geojson()
        )
        properties: dict[str, Any] = {"key": street.code, "name": street.name, "postcode": street.postcode}
        if street.district:
            properties["district"] = street.district
        if street.number_from is not None:
            properties["number_from"] = street.number_from
            properties["number_to"] = street.number_to
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _csv_records(text: str) -> list[tuple[str, dict[str, Any]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames:
        raise StreetImportError(["the CSV file has no header row"])
    header = [_column(name) for name in reader.fieldnames]
    if "name" not in header or "postcode" not in header:
        raise StreetImportError(["the CSV header must name at least the columns name and postcode"])
    records = []
    for number, raw in enumerate(reader, start=2):
        record = {_column(key): value for key, value in raw.items() if key is not None}
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue  # blank line
        records.append((f"line {number}", record))
    return records


def _geojson_records(text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(text, parse_constant=lambda name: float("nan"))
    except ValueError:
        raise StreetImportError(["the file is not valid JSON"]) from None
    if (
        not isinstance(data, Mapping)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise StreetImportError(["expected a GeoJSON FeatureCollection"])
    records = []
    for number, feature in enumerate(data["features"], start=1):
        where = f"feature {number}"
        if not isinstance(feature, Mapping) or not isinstance(feature.get("properties"), Mapping):
            records.append((where, {"_error": "not a Feature with properties"}))
            continue
        record = {_column(key): value for key, value in feature["properties"].items()}
        record["_geometry"] = feature.get("geometry")
        records.append((where, record))
    return records


def _column(name: str) -> str:
    name = (name or "").strip().lower()
    return ALIASES.get(name, name)


def _text(value: Any) -> str:
    return clean(str(value)) if value is not None else ""


def _int(value: Any, name: str) -> int | None:
    text = _text(value)
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
    if not 0 <= number <= 9999:
        raise ValueError(f"{name} must be between 0 and 9999")
    return number


def _float(value: Any, name: str) -> float | None:
    text = _text(value).replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None


def _row(record: dict[str, Any]) -> StreetRow:
    if "_error" in record:
        raise ValueError(record["_error"])
    name = _text(record.get("name"))
    if not name or len(name) > 200 or not street_key(name):
        raise ValueError("name is missing or longer than 200 characters")
    postcode = _text(record.get("postcode"))
    if not (len(postcode) == 5 and postcode.isdigit()):
        raise ValueError(f"postcode must be five digits, not {postcode!r}")
    district = _text(record.get("district"))[:100]
    number_from = _int(record.get("number_from"), "number_from")
    number_to = _int(record.get("number_to"), "number_to")
    if (number_from is None) != (number_to is None) or (
        number_from is not None and number_to is not None and number_from > number_to
    ):
        raise ValueError("number_from and number_to go together, and number_from <= number_to")
    settings = current_settings()
    line = _line(record, settings.bounds)
    lat, lon = _float(record.get("latitude"), "lat"), _float(record.get("longitude"), "lon")
    if lat is None or lon is None:
        geometry = record.get("_geometry")
        if isinstance(geometry, Mapping) and geometry.get("type") == geojson.POINT:
            lat, lon = _checked(geometry, geojson.POINT, settings.bounds).centre
        elif line is not None:
            lat, lon = line.centre
        else:
            raise ValueError("lat and lon (or a line) are required")
    else:
        lat, lon = _checked({"type": "Point", "coordinates": [lon, lat]}, geojson.POINT, settings.bounds).centre
    code = (
        _text(record.get("code"))[:64]
        or f"{street_key(name)}-{postcode}-{number_from if number_from is not None else ''}"
    )
    return StreetRow(
        code=code[:64],
        name=name,
        postcode=postcode,
        district=district,
        number_from=number_from,
        number_to=number_to,
        latitude=round(lat, 7),
        longitude=round(lon, 7),
        line=line.to_json() if line is not None else None,
    )


def _line(record: dict[str, Any], bounds: geojson.Bounds) -> geojson.Geometry | None:
    geometry = record.get("_geometry")
    if isinstance(geometry, Mapping) and geometry.get("type") == geojson.LINESTRING:
        return _checked(geometry, geojson.LINESTRING, bounds)
    raw = record.get("line")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _checked(raw, geojson.LINESTRING, bounds)


def _checked(value: Any, kind: str, bounds: geojson.Bounds) -> geojson.Geometry:
    try:
        return geojson.parse_geometry(value, types=(kind,), bounds=bounds, max_vertices=MAX_LINE_VERTICES)
    except geojson.GeoJSONError as error:
        raise ValueError(f"{kind}: {error.message}") from None
