"""Map assets and geocoding look-ups."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("maps", __name__)
