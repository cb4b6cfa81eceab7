"""Maps: Leaflet served like KERN, tiles by configuration, GeoJSON, offline geocoding on the city's street list.

For service authors:
- form field: `portal.maps.fields.GeoJSONField` (a point or an area, with street/coordinates fallback);
- templates: `{% from "macros/map.html" import map_input, map_view %}`;
- geocoding: `portal.maps.geocoding.geocode / locate / reverse_geocode` (offline, no network);
- GeoJSON: `portal.maps.geojson.parse_geometry / parse_geojson / Geometry.to_json / .area_m2`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from portal.maps import settings as map_settings


def _assets_once() -> bool:
    """True the first time a page asks: the macros load Leaflet's files once however many maps a page has."""
    if g.get("maps_assets_loaded"):
        return False
    g.maps_assets_loaded = True
    return True


def _geometry(value: Any) -> Any:
    """A stored GeoJSON text (or Geometry) as Geometry for the templates; None when empty or unreadable."""
    from portal.maps.fields import STORED_MAX_VERTICES
    from portal.maps.geojson import GeoJSONError, Geometry, parse_geometry

    if isinstance(value, Geometry) or not value:
        return value or None
    try:
        return parse_geometry(value, types=("Point", "Polygon", "LineString"), max_vertices=STORED_MAX_VERTICES)
    except GeoJSONError:
        return None


def _describe(geometry: Any) -> str:
    """A sentence for the text alternative of a map: the area in m², or the point's coordinates."""
    from flask_babel import format_decimal
    from flask_babel import gettext as _

    if geometry is None:
        return ""
    lat, lon = geometry.centre
    # Five decimals: about a metre, as precise as a drawn point is.
    position = _(
        "%(lat)s° N, %(lon)s° O", lat=format_decimal(lat, format="0.0####"), lon=format_decimal(lon, format="0.0####")
    )
    if geometry.type == "Polygon":
        return _(
            "Fläche von etwa %(area)s m² mit %(n)d Eckpunkten um %(position)s",
            area=format_decimal(round(geometry.area_m2), format="#,##0"),
            n=geometry.vertex_count,
            position=position,
        )
    if geometry.type == "LineString":
        return _("Linie um %(position)s", position=position)
    return _("Punkt bei %(position)s", position=position)


def init_app(app: Flask) -> None:
    """Check the map settings, open the CSP for the tile server, register the CLI, the demo streets and helpers."""
    import portal.maps.actions  # noqa: F401  (declares maps.streets_imported)
    from portal.demo import add_demo_hook
    from portal.maps import demo
    from portal.maps.cli import maps_cli
    from portal.maps.views import LEAFLET_VERSION, settings_for_script
    from portal.security import allow_image_source

    settings = map_settings.init_app(app)
    if settings.tile_source:
        try:
            allow_image_source(app, settings.tile_source)
        except ValueError:
            raise RuntimeError(f"MAP_TILE_URL has no usable origin for the CSP: {settings.tile_url!r}") from None
    app.cli.add_command(maps_cli)
    add_demo_hook(app, demo.load)

    app.jinja_env.globals.update(
        map_assets_once=_assets_once,
        map_geometry=_geometry,
        map_describe=_describe,
        map_script_settings=settings_for_script,
        leaflet_version=LEAFLET_VERSION,
    )
