"""HTML routes of the payments service."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal import access

bp = Blueprint("payments", __name__, url_prefix="/bezahlen")


@bp.get("/")
@access.public
def index():
    return render_template("payments/index.html")
