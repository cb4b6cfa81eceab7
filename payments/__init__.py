"""Bezahlen: Gebühren der Stadt online bezahlen, mit Kassenzeichen für die Stadtkasse."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing


def register(app: Flask) -> None:
    """Announce the service as planned: a card on the home page, not yet in the navigation."""
    add_landing(
        app,
        Landing(
            "payments",
            _l("Bezahlen"),
            _l("Gebühren der Stadt online bezahlen, mit Kassenzeichen für die Stadtkasse."),
            None,
            available=False,
        ),
    )
