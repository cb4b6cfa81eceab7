"""Admin pages for API tokens; filled in by the foundation issue's work on tokens."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tokens", __name__, url_prefix="/admin/zugaenge")
