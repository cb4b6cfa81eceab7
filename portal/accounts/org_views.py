"""Routes filled in by the foundation issue's work on this area."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/organisationen")
