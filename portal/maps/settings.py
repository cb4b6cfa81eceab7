"""The map settings (MAP_* in portal.config), checked once at start-up so a typo fails loudly, not on a page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from portal.maps.geojson import Bounds

EXTENSION_KEY = "stadtportal_maps"


@dataclass(frozen=True)
class MapSettings:
    tile_url: str
    tile_attribution: str
    center: tuple[float, float]  # lat, lon
    zoom: int
    max_zoom: int
    bounds: Bounds  # south, west, north, east
    max_vertices: int

    @property
    def tile_source(self) -> str | None:
        """The tile server's origin for the CSP (img-src); None for tiles from our own origin or no tiles.

        A subdomain placeholder ("https://{s}.tile.example.org/...") becomes a wildcard host.
        """
        if not self.tile_url:
            return None
        parts = urlsplit(self.tile_url.replace("{s}.", "*."))
        if parts.scheme in {"http", "https"} and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
        return None


def _floats(name: str, value: Any, count: int) -> tuple[float, ...]:
    items: Sequence[Any] = value.split(",") if isinstance(value, str) else value
    try:
        numbers = tuple(float(item) for item in items)
    except (TypeError, ValueError):
        numbers = ()
    if len(numbers) != count:
        raise RuntimeError(f"{name} must be {count} comma-separated numbers, not {value!r}")
    return numbers


def load(config: Any) -> MapSettings:
    tile_url = str(config.get("MAP_TILE_URL") or "").strip()
    if tile_url and not (tile_url.startswith("/") or urlsplit(tile_url).scheme in {"http", "https"}):
        raise RuntimeError(f"MAP_TILE_URL must be an http(s) address or a path on this site, not {tile_url!r}")
    lat, lon = _floats("MAP_CENTER", config.get("MAP_CENTER", "51.0504,13.7373"), 2)
    south, west, north, east = _floats("MAP_BOUNDS", config.get("MAP_BOUNDS", "50.97,13.60,51.13,13.90"), 4)
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise RuntimeError("MAP_BOUNDS must be south,west,north,east with south < north and west < east")
    if not (south <= lat <= north and west <= lon <= east):
        raise RuntimeError("MAP_CENTER must lie inside MAP_BOUNDS")
    settings = MapSettings(
        tile_url=tile_url,
        tile_attribution=str(config.get("MAP_TILE_ATTRIBUTION") or ""),
        center=(lat, lon),
        zoom=int(config.get("MAP_ZOOM", 15)),
        max_zoom=int(config.get("MAP_MAX_ZOOM", 19)),
        bounds=(south, west, north, east),
        max_vertices=int(config.get("MAP_MAX_VERTICES", 200)),
    )
    if not (0 <= settings.zoom <= settings.max_zoom <= 22):
        raise RuntimeError("MAP_ZOOM and MAP_MAX_ZOOM must satisfy 0 <= MAP_ZOOM <= MAP_MAX_ZOOM <= 22")
    if settings.max_vertices < 3:
        raise RuntimeError("MAP_MAX_VERTICES must be at least 3")
    return settings


def init_app(app: Flask) -> MapSettings:
    settings = load(app.config)
    app.extensions[EXTENSION_KEY] = settings
    return settings


def current() -> MapSettings:
    return current_app.extensions[EXTENSION_KEY]
