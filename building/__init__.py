"""Bauen: citizens see the status of their building applications held by the building authority, and book its
advisory appointment.

The status comes from the building authority's dataset (`bauordnung.baugenehmigungen`) through the one access
function, dataaccess.services.access.read, never from its tables. The portal reads as a machine client of its
operating department (the Hauptamt), bound to one approved agreement whose only purpose is "Auskunft an
Betroffene": see building.services for why, and what keeps that client to the signed-in person's own records.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

SERVICE = "building"
REQUIRES: tuple[str, ...] = ("dataaccess", "appointments")


def register(app: Flask) -> None:
    from building import cli, demo, views
    from portal.declarations import Setting, declare_setting
    from portal.demo import add_demo_hook
    from portal.services_registry import Landing, add_account_link, add_landing

    for name, default, description in (
        ("BUILDING_CLIENT_NAME", "Bürgerportal: Auskunft an Betroffene", "Name of the portal's own data-access client"),
        ("BUILDING_PURPOSE", "AUSK-BETR", "Purpose code under which the portal reads a citizen's own records"),
        ("BUILDING_ADVICE_SERVICE", "Beratung Bauantrag", "Catalogue name of the building authority's advice"),
    ):
        declare_setting(app, Setting(name, default, description, SERVICE))
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.building_cli)
    add_demo_hook(app, demo.load)
    add_account_link(app, "building.index", _l("Meine Bauanträge"))
    add_landing(
        app,
        Landing(
            "building",
            _l("Bauen"),
            _l("Den Stand Ihrer Bauanträge einsehen und eine Bauberatung buchen."),
            "building.index",
        ),
    )
