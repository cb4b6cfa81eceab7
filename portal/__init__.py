"""Stadtportal: the portal core and the application factory."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from flask import Flask

from portal.config import INSTANCE_DIR, check_production, config_for

CORE_BLUEPRINTS = [
    "portal.pages.views",
    "portal.accounts.views",
    "portal.accounts.me_views",
    "portal.accounts.org_views",
    "portal.admin.views",
    "portal.admin.work_views",
    "portal.audit.views",
    "portal.mail.views",
    "portal.oidc.views",
    "portal.admin.tokens_views",
    "portal.files.views",
    "portal.approvals.views",
    "portal.maps.views",
]
CORE_CLI = [
    "portal.audit.cli",
    "portal.mail.cli",
    "portal.accounts.cli",
    "portal.demo",
    "portal.jobs",
    "portal.dbroles",
]


class PortalFlask(Flask):
    """Flask, minus a repeated check: Flask asks for every hook and view on every request whether it is a
    coroutine function (about a dozen `inspect` calls per request); the answer never changes, so it is kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Any, Any] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync_callables[func]  # type: ignore[no-any-return]
        except KeyError:
            wrapped = super().ensure_sync(func)
            if len(self._sync_callables) < 10_000:  # only ever the registered hooks and views; never grows past
                self._sync_callables[func] = wrapped
            return wrapped
        except TypeError:  # an unhashable callable: ask every time
            return super().ensure_sync(func)


def create_app(test_config: dict[str, Any] | None = None, env: str | None = None) -> Flask:
    """Build the app: config, extensions, core blueprints, error handlers, CLI, then the configured services."""
    app = PortalFlask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="../static",
    )
    config_class = config_for(env)
    app.config.from_object(config_class)
    app.config["ENV_NAME"] = config_class.__name__.removesuffix("Config").lower()
    if test_config:
        app.config.update(test_config)
    if app.config["ENV_NAME"] == "production":
        check_production(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    hops = int(app.config.get("PROXY_FIX_HOPS", 0))
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    import portal.audit.actions  # noqa: F401  (declares the core's audit actions)
    from portal import (
        access,
        declarations,
        errors,
        i18n,
        inputs,
        models,  # noqa: F401  (every core model, for Alembic)
        observability,
        security,
    )
    from portal.extensions import csrf, db, limiter, login_manager
    from portal.schema_migrations import MigrationCommands

    # A statement's parameters are a citizen's name and e-mail address: never in an exception's text (logs).
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    db.init_app(app)
    from portal import connections, reads_alone

    connections.init_app(app)
    reads_alone.init_app(app)
    app.cli.add_command(MigrationCommands(app))
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    inputs.init_app(app)  # before any route is added: its converters are looked up then
    observability.init_app(app)
    security.init_app(app)
    from portal.accounts import sessions

    sessions.init_app(app, login_manager)
    access.init_app(app)
    declarations.init_app(app)
    from portal import services_registry

    services_registry.init_app(app)
    errors.init_app(app)
    from portal import files, maps
    from portal.audit import sequencer

    files.init_app(app)
    maps.init_app(app)
    sequencer.init_app(app)  # chains queued audit events after each commit; the job audit.sequence

    for module_name in CORE_BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp)
    from portal import api

    api.init_app(app)
    from portal import metrics, rendering

    metrics.init_app(app)
    rendering.init_app(app)
    for module_name in CORE_CLI:
        importlib.import_module(module_name).init_app(app)

    app.extensions["stadtportal_services"] = []
    for name, service in _services_in_order(app.config["SERVICES"]):
        service.register(app)
        app.extensions["stadtportal_services"].append(name)
    declarations.validate(app)
    return app


def _services_in_order(names: list[str]) -> list[tuple[str, Any]]:
    """Import the configured services; each comes after the services it names in its `REQUIRES`.

    A service needing one that is switched off stops the start with a message saying which and how to fix it.
    """
    modules = {name: importlib.import_module(name) for name in names}
    ordered: list[tuple[str, Any]] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if any(done == name for done, _ in ordered):
            return
        if name in path:
            raise RuntimeError(f"Services depend on each other in a circle: {' -> '.join((*path, name))}")
        for needed in getattr(modules[name], "REQUIRES", ()):
            if needed not in modules:
                raise RuntimeError(
                    f"The service {name!r} needs the service {needed!r}, which is switched off. "
                    f"Add {needed!r} to STADTPORTAL_SERVICES or switch {name!r} off too."
                )
            visit(needed, (*path, name))
        ordered.append((name, modules[name]))

    for name in names:
        visit(name, ())
    return ordered
