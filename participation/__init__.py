"""Beteiligung: An Bürgerbeteiligungen der Stadt mitwirken: Vorschläge, Kommentare, Unterstützung."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing

SERVICE = "participation"


def register(app: Flask) -> None:
    """Plug the service in: models, audit actions, the consultation managers' role, the edit window, the VOR
    reference prefix. Announced as planned ("Bald online") until its pages exist."""
    import participation.actions  # noqa: F401  (declares the audit actions and their texts for the citizen)
    from participation import models  # noqa: F401  (for the metadata and migrations)
    from participation.rules import MANAGER_ROLE
    from participation.services.proposals import REFERENCE_PREFIX
    from portal.declarations import Role, Setting, declare_role, declare_setting
    from portal.references import register_prefix

    declare_role(app, Role(MANAGER_ROLE, "department", _l("Beteiligung: Verfahren betreuen"), SERVICE))
    declare_setting(
        app,
        Setting(
            "PARTICIPATION_EDIT_MINUTES",
            15,
            "Minutes in which the author of a comment may still edit it",
            SERVICE,
            kind=int,
        ),
    )
    register_prefix(app, REFERENCE_PREFIX, service=SERVICE, description="Vorschlag (Bürgerbeteiligung)")
    add_landing(
        app,
        Landing(
            "participation",
            _l("Beteiligung"),
            _l("An Bürgerbeteiligungen der Stadt mitwirken: Vorschläge, Kommentare, Unterstützung."),
            None,
            available=False,
        ),
    )
