"""E-Government-Controlling: figures of every online service for the Hauptamt/IT-Koordination.

Reads each switched-on service's anonymous monthly figures (`<service>.services.figures`) and shows them as charts
with tables and a CSV export. The role `controlling` (global) opens it; platform administrators see it too.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

SERVICE = "controlling"
REQUIRES: tuple[str, ...] = ()


def register(app: Flask) -> None:
    from controlling import demo, views
    from controlling.services import ROLE
    from portal.declarations import Role, declare_role
    from portal.demo import add_demo_hook
    from portal.services_registry import add_admin_link

    declare_role(app, Role(ROLE, "global", _l("E-Government-Controlling (IT-Koordination)"), SERVICE))
    app.register_blueprint(views.bp)
    add_admin_link(app, "controlling.index", _l("E-Government-Controlling"))
    add_demo_hook(app, demo.load)
