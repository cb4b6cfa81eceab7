"""HTML routes of the permits service."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal import access

bp = Blueprint("permits", __name__, url_prefix="/sondernutzung")


@bp.get("/")
@access.public
def index():
    return render_template("permits/index.html")
