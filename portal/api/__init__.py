"""The JSON API under /api/v1/, documented by an OpenAPI 3 document generated from the code.

Each blueprint adds its routes with `register_api_blueprint(app, bp)`; errors leave as RFC 9457
problem JSON through portal.errors, not flask-smorest's own shape.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint

from portal.errors import handle_http_error


class StadtportalApi(Api):
    def handle_http_exception(self, error):  # type: ignore[override]
        return handle_http_error(error)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_SPEC_OPTIONS", {})
    app.config["API_SPEC_OPTIONS"].update(
        {
            "info": {
                "description": "Stadtportal: appointments, payments, participation, data access and permits.",
            },
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
        }
    )
    api = StadtportalApi(app)
    app.extensions["stadtportal_api"] = api
    from portal.api import core

    api.register_blueprint(core.blp)


def register_api_blueprint(app: Flask, blp: ApiBlueprint) -> None:
    app.extensions["stadtportal_api"].register_blueprint(blp)


def describe_api() -> dict[str, Any]:
    """A plain summary of the OpenAPI document for the human-readable docs page."""
    spec = current_app.extensions["stadtportal_api"].spec.to_dict()
    paths = []
    for path, operations in sorted(spec.get("paths", {}).items()):
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                paths.append(
                    {
                        "path": path,
                        "method": method.upper(),
                        "summary": operation.get("summary") or operation.get("description", ""),
                    }
                )
    return {"title": spec["info"]["title"], "paths": paths}
