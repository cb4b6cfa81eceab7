"""Termine: online appointment booking for municipal offices, the clerk's desk, calendar files."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.declarations import Scope, Setting, declare_scope, declare_setting
from portal.services_registry import (
    Landing,
    add_account_link,
    add_admin_link,
    add_landing,
    add_organisation_link,
    set_opening_hours_source,
)


def register(app: Flask) -> None:
    """Plug this service into the portal: models, blueprints, API, operator commands, demo data."""
    from appointments import (
        admin_views,
        api_bookings,
        api_catalogue,
        cli,
        closure_views,  # noqa: F401  (routes on the configuration blueprint)
        demo,
        desk_views,
        display_views,  # noqa: F401  (routes on the desk blueprint)
        feed_views,
        models,  # noqa: F401  (for the metadata and migrations)
        views,
    )
    from appointments.services import opening_hours, waitlist  # noqa: F401  (waitlist: subscribes to freed seats)
    from portal.api import register_api_blueprint
    from portal.demo import add_demo_hook

    for module in (views, admin_views, desk_views, feed_views):
        app.register_blueprint(module.bp)
    register_api_blueprint(app, api_catalogue.blp)
    register_api_blueprint(app, api_bookings.blp)
    app.cli.add_command(cli.appointments_cli)
    cli.declare_jobs(app)
    from appointments import gdpr  # its export section and erasure handler for "Meine Daten" and deletion

    gdpr.register(app)
    declare_scope(app, Scope("appointments", _l("Termine"), "appointments"))
    declare_setting(
        app,
        Setting(
            "APPOINTMENTS_SEARCH_CACHE_SIZE",
            256,
            "Slot searches kept per worker, keyed on the location's availability version; 0 switches the cache off",
            "appointments",
            kind=int,
        ),
    )
    declare_setting(
        app,
        Setting(
            "APPOINTMENTS_SEARCH_CACHE_URL",
            "",
            "Redis shared by all workers and hosts for slot searches (redis://127.0.0.1:6379/1); empty: per worker",
            "appointments",
        ),
    )
    declare_setting(
        app,
        Setting(
            "APPOINTMENTS_SEARCH_CACHE_PREFIX",
            "stadtportal:slots",
            "Key prefix in that Redis: portals sharing one Redis need different prefixes",
            "appointments",
        ),
    )
    declare_setting(
        app,
        Setting(
            "APPOINTMENTS_SEARCH_RATE_LIMIT",
            "120/minute",
            "Slot searches per client address (Flask-Limiter syntax); a location can set its own",
            "appointments",
        ),
    )
    add_demo_hook(app, demo.load)
    # The structured intervals the slots come from are the only opening hours the portal shows.
    set_opening_hours_source(app, opening_hours.weekly_hours, "appointments_admin.hours")
    if "payments" in app.config["SERVICES"]:
        # Fees for booked services; payments is imported only when it is switched on (no REQUIRES: without it
        # appointments work as before, and fee rows are ignored).
        from appointments.services import fee_payments

        fee_payments.register(app)
        add_admin_link(app, "appointments_admin.fees_index", _l("Termine: Gebühren der Leistungen"))
    add_account_link(app, "appointments.mine", _l("Meine Termine"))
    add_organisation_link(app, "appointments.organisation_bookings", _l("Termine der Organisation"))
    add_admin_link(app, "appointments_admin.index", _l("Termine: Standorte, Leistungen, Öffnungszeiten"))
    add_admin_link(app, "desk.index", _l("Schalter (Termine)"))
    add_admin_link(app, "appointments_feed.index", _l("Termine im eigenen Kalender abonnieren"))
    add_landing(
        app,
        Landing(
            "appointments",
            _l("Termine"),
            _l("Termine in Bürgerbüros und Ämtern online buchen, verschieben und absagen."),
            "appointments.index",
        ),
    )
