"""Sondernutzung: Eine Sondernutzungserlaubnis für öffentliche Straßen online beantragen."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing

# The services this one builds on; the factory refuses to start without them.
REQUIRES: tuple[str, ...] = ("payments", "appointments", "dataaccess")


def register(app: Flask) -> None:
    """Announce the service as planned: a card on the home page, not yet in the navigation."""
    add_landing(
        app,
        Landing(
            "permits",
            _l("Sondernutzung"),
            _l("Eine Sondernutzungserlaubnis für öffentliche Straßen online beantragen."),
            None,
            available=False,
        ),
    )
