"""HTML routes of the participation service."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal import access

bp = Blueprint("participation", __name__, url_prefix="/beteiligung")


@bp.get("/")
@access.public
def index():
    return render_template("participation/index.html")
