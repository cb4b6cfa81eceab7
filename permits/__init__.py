"""Sondernutzung: Eine Sondernutzungserlaubnis für öffentliche Straßen online beantragen."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_account_link, add_landing

SERVICE = "permits"
# The services this one builds on; the factory refuses to start without them.
REQUIRES: tuple[str, ...] = ("payments", "appointments", "dataaccess")


def register(app: Flask) -> None:
    """Plug the service in: models, audit actions, the department's roles, settings, the SNU reference prefix, the
    public API (fee preview) and the demo catalogue. Announced as planned: a card on the home page, not yet in the
    navigation, until the application and clerk pages exist."""
    import permits.actions  # noqa: F401  (declares the audit actions and their texts for the applicant)
    from permits import models  # noqa: F401  (for the metadata and migrations)
    from permits.rules import CATALOGUE_ROLE, OFFICER_ROLE
    from permits.services.applications import REFERENCE_PREFIX
    from portal.declarations import Role, Scope, Setting, declare_role, declare_scope, declare_setting
    from portal.references import register_prefix

    declare_role(app, Role(OFFICER_ROLE, "department", _l("Sondernutzung: Anträge bearbeiten"), SERVICE))
    declare_role(
        app, Role(CATALOGUE_ROLE, "department", _l("Sondernutzung: Nutzungsarten und Tarife pflegen"), SERVICE)
    )
    declare_setting(
        app,
        Setting(
            "PERMITS_DEPARTMENT",
            "verkehr-tiefbau",
            "Slug of the department that decides special-use permits (Verkehrs- und Tiefbauamt)",
            SERVICE,
        ),
    )
    declare_setting(
        app,
        Setting(
            "PERMITS_PREVIEW_RATE_LIMIT",
            "60/minute",
            "Fee previews per client (the public API), in flask-limiter notation",
            SERVICE,
        ),
    )
    declare_setting(
        app,
        Setting(
            "PERMITS_BUILDING_DATASET",
            "bauordnung.baugenehmigungen",
            "Key of the building authority's dataset (data-access module) the permit clerks consult",
            SERVICE,
        ),
    )
    declare_setting(
        app,
        Setting(
            "PERMITS_CONSULT_PURPOSE",
            "SNU-PRUEFUNG",
            "Purpose code (Prüfung Sondernutzung) under which permit clerks read other offices' records",
            SERVICE,
        ),
    )
    declare_setting(
        app,
        Setting(
            "PERMITS_ADVICE_SERVICE",
            "Beratung Sondernutzung",
            "Catalogue name of the advisory appointment the application pages offer to book for the case",
            SERVICE,
        ),
    )
    declare_scope(app, Scope("permits", _l("Sondernutzung: eigene Anträge, Fallliste der Sachbearbeitung"), SERVICE))
    register_prefix(app, REFERENCE_PREFIX, service=SERVICE, description="Sondernutzungserlaubnis")
    from permits.attachments import register_access_rules
    from permits.services import fee_payments

    register_access_rules()  # the department's clerks read the documents attached to its cases
    fee_payments.register(app)  # a paid fee notice puts the permit in force
    from permits.services import advice

    advice.register(app)  # advisory appointments can be booked for a case
    from permits import cli

    app.cli.add_command(cli.permits_cli)
    cli.declare_jobs(app)  # the calendar: in force from the first day, ended after the last
    _register_views(app)
    _register_api(app)
    _register_demo(app)
    add_landing(
        app,
        Landing(
            "permits",
            _l("Sondernutzung"),
            _l("Eine Sondernutzungserlaubnis für öffentliche Straßen online beantragen."),
            "permits.index",
        ),
    )


def _register_views(app: Flask) -> None:
    """The applicant's pages under /sondernutzung, "Meine Anträge" on Mein Konto, the clerk's desk under
    /sondernutzung/amt on the admin overview."""
    from permits import views, views_desk
    from portal.services_registry import add_admin_link

    app.register_blueprint(views.bp)
    app.register_blueprint(views_desk.bp)
    add_account_link(app, "permits.mine", _l("Meine Anträge auf Sondernutzung"))
    add_admin_link(app, "permits_desk.index", _l("Sondernutzung: Anträge bearbeiten"))
    add_admin_link(app, "permits_desk.statement_list", _l("Sondernutzung: Bitten um Stellungnahme"))


def _register_api(app: Flask) -> None:
    """The public JSON API at /api/v1/permits: the use-type catalogue and the fee preview."""
    from permits import api
    from portal.api import register_api_blueprint

    register_api_blueprint(app, api.blp)


def _register_demo(app: Flask) -> None:
    """Its part of `flask demo load`: the catalogue of use types, the street-to-zone list, a tariff."""
    from permits import demo
    from portal.demo import add_demo_hook

    add_demo_hook(app, demo.load)
