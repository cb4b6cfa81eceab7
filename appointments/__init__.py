"""Termine: Termine in Bürgerbüros und Ämtern online buchen, verschieben und absagen."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing


def register(app: Flask) -> None:
    """Plug this service into the portal: blueprints, landing entry."""
    from appointments import views

    app.register_blueprint(views.bp)
    add_landing(
        app,
        Landing(
            "appointments",
            _l("Termine"),
            _l("Termine in Bürgerbüros und Ämtern online buchen, verschieben und absagen."),
            "appointments.index",
        ),
    )
