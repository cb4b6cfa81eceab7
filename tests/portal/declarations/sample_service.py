"""A service for the tests: declares a department role, a scope, settings and a production check."""

from __future__ import annotations

from flask import Blueprint, Flask

from portal import access
from portal.declarations import (
    Role,
    Scope,
    Setting,
    declare_production_check,
    declare_role,
    declare_scope,
    declare_setting,
)

bp = Blueprint("sample", __name__, url_prefix="/_sample")


@bp.get("/desk")
@access.roles("sample_officer")
def desk():
    return "desk"


@bp.get("/api")
@access.token("sample")
def api():
    return {"ok": True}


def register(app: Flask) -> None:
    declare_role(
        app, Role("sample_officer", "department", "Sample officer", "tests.portal.declarations.sample_service")
    )
    declare_scope(app, Scope("sample", "Sample API", "tests.portal.declarations.sample_service"))
    declare_setting(app, Setting("SAMPLE_LEAD_DAYS", 10, "Lead time", "sample", kind=int))
    declare_setting(app, Setting("SAMPLE_PROVIDER", "sandbox", "Provider", "sample", choices=("sandbox", "live")))
    declare_setting(app, Setting("SAMPLE_WEBHOOK_SECRET", "", "Webhook secret", "sample", secret=True))
    declare_production_check(
        app,
        "sample",
        lambda config: (
            (
                ["SAMPLE_PROVIDER must not be the sandbox in production"]
                if config["SAMPLE_PROVIDER"] == "sandbox"
                else []
            )
            + (["SAMPLE_WEBHOOK_SECRET is required"] if not config["SAMPLE_WEBHOOK_SECRET"] else [])
        ),
    )
    app.register_blueprint(bp)
