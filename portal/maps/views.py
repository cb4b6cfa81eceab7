"""Map assets (Leaflet from its npm package) and the JSON look-ups map.js uses: address search, nearest
address, the street lines drawn when no tile server is configured.

The look-ups are public and rate-limited; they answer JSON, and their errors are problem JSON (RFC 9457).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request, send_from_directory
from flask_babel import gettext as _

from portal import access
from portal.config import BASE_DIR
from portal.errors import problem
from portal.extensions import limiter
from portal.maps import geocoding, streets
from portal.maps.normalise import MAX_ADDRESS_LENGTH, clean
from portal.maps.settings import current as current_settings

bp = Blueprint("maps", __name__, url_prefix="/karte")

LEAFLET_DIR = BASE_DIR / "node_modules" / "leaflet" / "dist"
# Only what a page needs: the library, its stylesheet and the images the stylesheet names. Nothing else of the
# package (source maps, ESM build, package.json) is served.
LEAFLET_FILES = {
    "leaflet.js": "text/javascript",
    "leaflet.css": "text/css",
    "images/marker-icon.png": "image/png",
    "images/marker-icon-2x.png": "image/png",
    "images/marker-shadow.png": "image/png",
    "images/layers.png": "image/png",
    "images/layers-2x.png": "image/png",
}
YEAR = 365 * 24 * 3600


def _leaflet_version() -> str:
    try:
        return str(json.loads((LEAFLET_DIR.parent / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "missing"


LEAFLET_VERSION = _leaflet_version()


def _rate_limit() -> str:
    return str(current_app.config.get("MAP_GEOCODE_RATE_LIMIT", "120 per minute"))


@bp.get("/leaflet/<version>/<path:filename>")
@access.public
def leaflet(version: str, filename: str) -> Response:
    """Leaflet from node_modules. The version is in the address, so browsers may keep the files for a year."""
    if version != LEAFLET_VERSION or filename not in LEAFLET_FILES:
        abort(404)
    response = send_from_directory(LEAFLET_DIR, filename, mimetype=LEAFLET_FILES[filename], max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def _query() -> str | Response:
    raw = request.args.get("q", "")
    if len(raw) > MAX_ADDRESS_LENGTH:
        return problem(
            400,
            _("Der Suchtext ist zu lang (höchstens %(max)d Zeichen).", max=MAX_ADDRESS_LENGTH),
            type_="query_too_long",
        )
    return clean(raw)


@bp.get("/adressen")
@limiter.limit(_rate_limit)
@access.public
def geocode() -> Response:
    """Address search on the city's street list: ?q=Hauptstraße 12. status: found, ambiguous, not_found, empty."""
    query = _query()
    if isinstance(query, Response):
        return query
    body: dict[str, Any] = {"query": query}
    if not query:
        body.update(status="empty", results=[], message=_("Bitte geben Sie Straße und Hausnummer an."))
        return jsonify(body)
    results = geocoding.geocode(query)
    try:
        found = geocoding.locate(query)
    except geocoding.AddressAmbiguous as error:
        body.update(status="ambiguous", message=error.message)
    except geocoding.AddressNotFound as error:
        body.update(status="not_found", message=error.message)
    else:
        body.update(status="found", message=_("Gefunden: %(label)s", label=found.label))
        results = [found] + [result for result in results if result.street_id != found.street_id]
    body["results"] = [result.to_dict() for result in results]
    return jsonify(body)


@bp.get("/adressen/nahe")
@limiter.limit(_rate_limit)
@access.public
def reverse() -> Response:
    """The nearest street (with an estimated house number) to ?lat=51.05&lon=13.74; result null if none is near."""
    lat = request.args.get("lat", type=float)
    lon = request.args.get("lon", type=float)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return problem(
            400,
            _("Geben Sie lat und lon als Zahlen an, zum Beispiel lat=51.0504&lon=13.7373."),
            type_="coordinates",
            errors={"lat": [_("Breite −90 bis 90")], "lon": [_("Länge −180 bis 180")]},
        )
    found = geocoding.reverse_geocode(lat, lon)
    return jsonify({"result": found.to_dict() | {"distance_m": found.distance_m} if found else None})


@bp.get("/strassen.geojson")
@limiter.limit(_rate_limit)
@access.public
def street_lines() -> Response:
    """The street list as GeoJSON, drawn by map.js as a plain base map when no tile server is configured."""
    body = json.dumps(streets.streets_geojson(streets.list_streets()), ensure_ascii=False, separators=(",", ":"))
    response = Response(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def settings_for_script() -> dict[str, Any]:
    """What map.js needs to know, rendered into the page by the macros."""
    from flask import url_for

    settings = current_settings()
    return {
        "center": list(settings.center),
        "zoom": settings.zoom,
        "maxZoom": settings.max_zoom,
        "bounds": list(settings.bounds),
        "maxVertices": settings.max_vertices,
        "tileUrl": settings.tile_url,
        "attribution": settings.tile_attribution,
        "geocodeUrl": url_for("maps.geocode"),
        "reverseUrl": url_for("maps.reverse"),
        "streetsUrl": url_for("maps.street_lines"),
    }
