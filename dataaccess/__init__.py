"""Datenzugriffe: Nachvollziehen, welche Ämter auf welcher Rechtsgrundlage auf Ihre Daten zugegriffen haben."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing

SERVICE = "dataaccess"


def register(app: Flask) -> None:
    """Plug the service in: models, audit actions, the agreement's two approval kinds, the API scope, the DZV
    reference prefix. The home page's card leads the citizen to their Datenzugriffe page."""
    import dataaccess.actions  # noqa: F401  (declares the audit actions and their texts for the citizen)
    from dataaccess import models, models_rate  # noqa: F401  (for the metadata and migrations)
    from dataaccess.services import agreements
    from portal.declarations import Scope, declare_scope
    from portal.references import register_prefix

    declare_scope(app, Scope("dataaccess", _l("Datenzugriffe zwischen Ämtern"), SERVICE))
    register_prefix(app, agreements.REFERENCE_PREFIX, service=SERVICE, description="Datenzugriffsvereinbarung")
    agreements.register_kinds(app)
    _register_citizen(app)
    _register_staff(app)
    add_landing(
        app,
        Landing(
            "dataaccess",
            _l("Datenzugriffe"),
            _l("Nachvollziehen, welche Ämter auf welcher Rechtsgrundlage auf Ihre Daten zugegriffen haben."),
            "dataaccess_citizen.my_accesses",
        ),
    )


def _register_citizen(app: Flask) -> None:
    """The API, the citizen's pages (Datenzugriffe, once-only consent), GDPR hooks, CLI, demo, fee provider."""
    from dataaccess import api, cli, demo, gdpr, views_citizen
    from portal.api import register_api_blueprint
    from portal.demo import add_demo_hook
    from portal.services_registry import add_account_link

    app.register_blueprint(views_citizen.bp)
    register_api_blueprint(app, api.blp)
    register_api_blueprint(app, api.me_blp)
    gdpr.register(app)
    app.cli.add_command(cli.dataaccess_cli)
    cli.declare_jobs(app)
    demo.register_fee_provider(app)
    add_demo_hook(app, demo.load)
    add_account_link(app, "dataaccess_citizen.my_accesses", _l("Datenzugriffe"))


def _register_staff(app: Flask) -> None:
    """The staff pages (catalogue, agreements, break-glass), the dpo's pages, and their settings."""
    from dataaccess import views_dpo, views_staff
    from portal.declarations import Setting, declare_setting
    from portal.services_registry import add_admin_link

    declare_setting(
        app,
        Setting(
            "DATAACCESS_BREAKGLASS_MINUTES",
            60,
            "Minutes an emergency access (break-glass) stays open for reads",
            SERVICE,
            kind=int,
        ),
    )
    declare_setting(
        app,
        Setting(
            "DATAACCESS_MANY_SUBJECTS_THRESHOLD",
            20,
            "Distinct subjects one official may read in a day before the dpo's overview lists them",
            SERVICE,
            kind=int,
        ),
    )
    declare_setting(
        app,
        Setting("DATAACCESS_MONITOR_DAYS", 30, "Days of access log the dpo's overview looks at", SERVICE, kind=int),
    )
    app.register_blueprint(views_staff.bp)
    app.register_blueprint(views_dpo.bp)
    add_admin_link(app, "dataaccess_staff.index", _l("Datenzugriffe: Datenbestände und Vereinbarungen"))
    add_admin_link(app, "dataaccess_staff.breakglass_new", _l("Datenzugriffe: Notfallzugriff"))
    add_admin_link(app, "dataaccess_dpo.dashboard", _l("Datenzugriffe: Datenschutz-Überblick"))
