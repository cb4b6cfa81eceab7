"""A service for the tests whose route names a role nobody declared."""

from __future__ import annotations

from flask import Blueprint, Flask

from portal import access

bp = Blueprint("undeclared", __name__, url_prefix="/_undeclared")


@bp.get("/")
@access.roles("permit_oficer")  # the typo the start-up check is there to catch
def index():
    return "x"


def register(app: Flask) -> None:
    app.register_blueprint(bp)
