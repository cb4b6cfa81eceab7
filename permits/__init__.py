"""Sondernutzung: Eine Sondernutzungserlaubnis für öffentliche Straßen online beantragen."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing


def register(app: Flask) -> None:
    """Plug this service into the portal: blueprints, landing entry."""
    from permits import views

    app.register_blueprint(views.bp)
    add_landing(
        app,
        Landing(
            "permits",
            _l("Sondernutzung"),
            _l("Eine Sondernutzungserlaubnis für öffentliche Straßen online beantragen."),
            "permits.index",
        ),
    )
