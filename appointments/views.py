"""HTML routes of the appointments service."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal import access

bp = Blueprint("appointments", __name__, url_prefix="/termine")


@bp.get("/")
@access.public
def index():
    return render_template("appointments/index.html")
