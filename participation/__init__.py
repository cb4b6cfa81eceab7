"""Beteiligung: An Bürgerbeteiligungen der Stadt mitwirken: Vorschläge, Kommentare, Unterstützung."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.services_registry import Landing, add_landing

SERVICE = "participation"


def register(app: Flask) -> None:
    """Plug the service in: models, audit actions, the consultation managers' role, the edit window, the VOR
    reference prefix, and the pages, API, jobs and demo of each part (see the _register_* functions below)."""
    import participation.actions
    import participation.cache_token  # noqa: F401  (replaces a consultation's cache token with each change)
    from participation import models, models_moderation, models_readers, models_results, models_surveys  # noqa: F401  (migrations)
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
    declare_setting(
        app,
        Setting(
            "PARTICIPATION_CACHE_URL",
            "",
            "Redis that shares rendered consultation pages, threads and comment API answers between workers and "
            "hosts (empty: each worker keeps its own; they are right either way)",
            SERVICE,
        ),
    )
    register_prefix(app, REFERENCE_PREFIX, service=SERVICE, description="Vorschlag (Bürgerbeteiligung)")
    _register_citizen(app)
    _register_manage(app)
    _register_moderation(app)
    _register_results(app)
    _register_surveys(app)
    _register_api(app)
    _register_readers(app)
    _register_demo(app)
    add_landing(
        app,
        Landing(
            "participation",
            _l("Beteiligung"),
            _l("An Bürgerbeteiligungen der Stadt mitwirken: Vorschläge, Kommentare, Unterstützung."),
            "participation.index",
        ),
    )


def _register_surveys(app: Flask) -> None:
    """Surveys and draft texts: the participants' pages under /beteiligung/<slug>/umfrage and /entwurf, the
    managers' editors under /admin/beteiligung/<id>/umfrage and /entwurf."""
    from participation import views_draft, views_surveys, views_surveys_manage

    app.register_blueprint(views_surveys.bp)
    app.register_blueprint(views_draft.bp)
    app.register_blueprint(views_surveys_manage.bp)


def _register_demo(app: Flask) -> None:
    """Its part of `flask demo load`: three consultations (open, upcoming, closed) with contributions."""
    from participation import demo
    from portal.demo import add_demo_hook

    add_demo_hook(app, demo.load)


def _register_readers(app: Flask) -> None:
    """Council read access: a consultation's figures for the accounts its managers named, at
    /beteiligung/<slug>/kennzahlen, and granting it under /admin/beteiligung/<id>/lesezugriff."""
    from participation import views_readers

    app.register_blueprint(views_readers.bp)


def _register_api(app: Flask) -> None:
    """The JSON API at /api/v1/participation: reading is public; taking part needs a signed-in person or a
    person's token with the scope `participation`; so do the exports for staff."""
    from participation import api, api_contribute, api_exports  # noqa: F401  (they add their routes to api.blp)
    from portal.api import register_api_blueprint
    from portal.declarations import Scope, declare_scope

    declare_scope(app, Scope(api.SCOPE, _l("Beteiligung: Vorschläge, Kommentare, Unterstützung"), SERVICE))
    register_api_blueprint(app, api.blp)


def _register_manage(app: Flask) -> None:
    """The consultation managers' pages at /admin/beteiligung, and the downloads of a consultation's results."""
    from participation import views_exports, views_manage
    from portal.services_registry import add_admin_link

    app.register_blueprint(views_manage.bp)
    app.register_blueprint(views_exports.bp)
    add_admin_link(app, "participation_manage.index", _l("Beteiligung: Verfahren verwalten"))


def _register_citizen(app: Flask) -> None:
    """The citizens' pages at /beteiligung/ and "Meine Beteiligung" on Mein Konto; the images of published
    proposals at /beteiligung/bilder/<key> (and of others for those who moderate them, via /dateien/<key>)."""
    from participation import views_contribute, views_images, views_public
    from participation.services import images
    from portal.files import register_access_rule
    from portal.services_registry import add_account_link

    register_access_rule(images.IMAGE_PURPOSE, images.staff_may_read)
    app.register_blueprint(views_images.bp)
    app.register_blueprint(views_public.bp)
    app.register_blueprint(views_contribute.bp)
    add_account_link(app, "participation_contribute.mine", _l("Meine Beteiligung"))


def _register_moderation(app: Flask) -> None:
    """Moderation: the flag and appeal pages under /beteiligung, the queue and its pages at
    /admin/beteiligung/moderation, and the deadline of a case."""
    from participation import views_moderation, views_moderation_admin
    from portal.declarations import Setting, declare_setting
    from portal.services_registry import add_admin_link

    declare_setting(
        app,
        Setting(
            "PARTICIPATION_MODERATION_HOURS",
            24,
            "Hours within which a flagged or pending contribution (and an appeal) should be decided",
            SERVICE,
            kind=int,
        ),
    )
    app.register_blueprint(views_moderation.citizen_bp)
    app.register_blueprint(views_moderation.bp)
    app.register_blueprint(views_moderation_admin.bp)
    add_admin_link(app, "participation_moderation.queue", _l("Beteiligung: Moderation"))


def _register_results(app: Flask) -> None:
    """Official answers (the managers' pages under /admin/beteiligung/<id>/antworten), detaching contributions
    from accounts some time after closing (a daily job and `flask participation detach-authors`), and the
    GDPR hooks."""
    from participation import cli, gdpr, views_answers
    from portal.declarations import Setting, declare_setting

    declare_setting(
        app,
        Setting(
            "PARTICIPATION_DETACH_AFTER_DAYS",
            365,
            "Days after a consultation closed when its contributions are detached from the participants' accounts",
            SERVICE,
            kind=int,
        ),
    )
    app.register_blueprint(views_answers.bp)
    app.cli.add_command(cli.participation_cli)
    cli.declare_jobs(app)
    gdpr.register(app)
