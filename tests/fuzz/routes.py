"""The app as collection sees it: its routes and its OpenAPI document, built without a database."""

from __future__ import annotations

import functools
import tempfile


@functools.cache
def static_app():
    from portal import create_app

    tmp = tempfile.mkdtemp(prefix="fuzz-collect-")
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "AUDIT_SIGNING_KEY_FILE": f"{tmp}/k.pem"}, env="test")


def openapi_document() -> dict:
    return static_app().test_client().get("/api/v1/openapi.json").get_json()


def form_endpoints() -> list[str]:
    """Every endpoint that takes a POST outside the JSON API."""
    api = static_app().extensions["stadtportal_api_blueprints"]
    return sorted(
        {
            rule.endpoint
            for rule in static_app().url_map.iter_rules()
            if "POST" in rule.methods and rule.endpoint.split(".")[0] not in api
        }
    )
