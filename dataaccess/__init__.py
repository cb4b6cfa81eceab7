"""Datenzugriffe: Nachvollziehen, welche Ämter auf welcher Rechtsgrundlage auf Ihre Daten zugegriffen haben."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing


def register(app: Flask) -> None:
    """Plug this service into the portal: blueprints, landing entry."""
    from dataaccess import views

    app.register_blueprint(views.bp)
    add_landing(
        app,
        Landing(
            "dataaccess",
            _l("Datenzugriffe"),
            _l("Nachvollziehen, welche Ämter auf welcher Rechtsgrundlage auf Ihre Daten zugegriffen haben."),
            "dataaccess.index",
        ),
    )
