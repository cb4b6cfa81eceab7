"""Maps: Leaflet served like KERN, tiles by configuration, GeoJSON, offline geocoding on the city's street list."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Set up maps for the app (filled in by the maps part)."""
