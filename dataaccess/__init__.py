"""Datenzugriffe: Nachvollziehen, welche Ämter auf welcher Rechtsgrundlage auf Ihre Daten zugegriffen haben."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing


def register(app: Flask) -> None:
    """Announce the service as planned: a card on the home page, not yet in the navigation."""
    add_landing(
        app,
        Landing(
            "dataaccess",
            _l("Datenzugriffe"),
            _l("Nachvollziehen, welche Ämter auf welcher Rechtsgrundlage auf Ihre Daten zugegriffen haben."),
            None,
            available=False,
        ),
    )
