"""HTML routes of the dataaccess service."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal import access

bp = Blueprint("dataaccess", __name__, url_prefix="/datenzugriff")


@bp.get("/")
@access.public
def index():
    return render_template("dataaccess/index.html")
