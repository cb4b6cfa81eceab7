"""The JSON API under /api/v1/, documented by an OpenAPI 3 document generated from the code.

Each blueprint adds its routes with `register_api_blueprint(app, bp)`; errors leave as RFC 9457
problem JSON through portal.errors, not flask-smorest's own shape. Routes guarded by
`access.token(scope)` are documented with the bearerAuth security scheme automatically.
"""

from __future__ import annotations

import http
from typing import Any

from apispec import BasePlugin
from flask import Flask, current_app, request
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from portal.api.schemas import ProblemSchema
from portal.errors import handle_http_error

PROBLEM_CONTENT_TYPE = "application/problem+json"
BLUEPRINTS_KEY = "stadtportal_api_blueprints"
DOCUMENTED_METHODS = ("get", "post", "put", "patch", "delete")


class AccessRulePlugin(BasePlugin):
    """Documents each route's access rule: bearerAuth with its scope, plus the 401/403 answers."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        from portal.access import rule_for

        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        access_rule = rule_for(self.app, rule.endpoint)
        for operation in operations.values():
            if access_rule is None:
                continue
            operation["x-access"] = access_rule.describe()
            if access_rule.kind == "token":
                # OpenAPI 3.1 lets non-OAuth schemes list "roles"; ours are the token scopes.
                operation["security"] = [{"bearerAuth": [access_rule.scope]}]
                responses = operation.setdefault("responses", {})
                responses.setdefault("401", http.HTTPStatus.UNAUTHORIZED.name)
                responses.setdefault("403", http.HTTPStatus.FORBIDDEN.name)
            else:
                operation["security"] = []


class StadtportalApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        response = handle_http_error(error)
        # Keep the headers the exception carries (WWW-Authenticate on 401, Allow on 405).
        for name, value in error.get_headers():
            if name.lower() in {"www-authenticate", "allow"}:
                response.headers[name] = value
        return response

    def _register_responses(self) -> None:
        """Document error responses as problem+json (flask-smorest would say application/json)."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_SPEC_OPTIONS", {})
    app.config["API_SPEC_OPTIONS"].update(
        {
            "info": {
                "description": "Stadtportal: appointments, payments, participation, data access and permits. "
                "Errors are RFC 9457 problem details (application/problem+json). Routes marked with "
                "bearerAuth need an API token (Authorization: Bearer sp_...) carrying the listed scope.",
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API token issued by the platform administration, scoped per service.",
                    }
                },
            },
        }
    )
    api = StadtportalApi(app, spec_kwargs={"extra_plugins": [AccessRulePlugin(app)]})
    app.extensions["stadtportal_api"] = api
    app.extensions[BLUEPRINTS_KEY] = set()
    app.before_request(_api_csrf)
    from portal.api import audit_api, core

    register_api_blueprint(app, core.blp)
    register_api_blueprint(app, audit_api.blp)


def register_api_blueprint(app: Flask, blp: ApiBlueprint) -> None:
    from portal.extensions import csrf

    # CSRF is checked by _api_csrf instead: only for requests that might ride on a browser's cookies.
    csrf.exempt(blp)
    app.extensions[BLUEPRINTS_KEY].add(blp.name)
    app.extensions["stadtportal_api"].register_blueprint(blp)


def _api_csrf() -> None:
    """API requests with a bearer token carry no ambient credentials and need no CSRF token (a foreign
    site cannot set the Authorization header without a CORS preflight, which we never allow). Without
    one but with a session cookie, a state-changing request may be acting on a signed-in browser's session,
    so it needs the token (form field or X-CSRFToken header) exactly like an HTML form. Anonymous clients
    without cookies (the public booking API) need neither."""
    from portal.extensions import csrf

    if request.blueprint not in current_app.extensions[BLUEPRINTS_KEY]:
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return
    cookies = request.cookies
    if current_app.config["SESSION_COOKIE_NAME"] not in cookies and (
        current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies
    ):
        return  # no cookie, no ambient credentials: a forged request would act for nobody
    csrf.protect()


def _parameters(operation: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            name = parameter["$ref"].rsplit("/", 1)[-1]
            parameter = spec.get("components", {}).get("parameters", {}).get(name, {})
        schema = parameter.get("schema", {})
        found.append(
            {
                "name": parameter.get("name", ""),
                "location": parameter.get("in", ""),
                "required": bool(parameter.get("required")),
                "type": schema.get("type", "") if isinstance(schema, dict) else "",
                "description": parameter.get("description", ""),
            }
        )
    return found


def describe_api() -> dict[str, Any]:
    """A plain summary of the OpenAPI document for the human-readable docs page."""
    spec = current_app.extensions["stadtportal_api"].spec.to_dict()
    paths = []
    for path, operations in sorted(spec.get("paths", {}).items()):
        for method, operation in operations.items():
            if method not in DOCUMENTED_METHODS:
                continue
            security = operation.get("security") or []
            scopes = sorted({scope for requirement in security for scope in requirement.get("bearerAuth", [])})
            description = (operation.get("description") or "").strip()
            paths.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "anchor": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "").strip("-"),
                    "summary": operation.get("summary") or description,
                    "description": description if operation.get("summary") else "",
                    "parameters": _parameters(operation, spec),
                    "has_body": "requestBody" in operation,
                    "token_required": bool(security),
                    "scopes": scopes,
                    "responses": sorted(str(code) for code in operation.get("responses", {})),
                }
            )
    return {"title": spec["info"]["title"], "version": spec["info"].get("version", ""), "paths": paths}
