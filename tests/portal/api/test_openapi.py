"""The OpenAPI document and the human-readable docs page describe every route and how to access it."""

from __future__ import annotations

import re

from portal.access import rule_for

API_PATHS = {"/api/v1/departments", "/api/v1/audit/events"}


def test_openapi_document_is_openapi_3_with_our_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert re.match(r"3\.\d+\.\d+$", spec["openapi"])
    assert spec["info"]["title"] and spec["info"]["version"] == "v1"
    assert set(spec["paths"]) >= API_PATHS
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"


def test_every_api_route_of_the_app_is_in_the_document(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = set(spec["paths"])
    routes = {
        re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api-docs.openapi_json"
    }
    assert routes <= documented


def test_token_routes_name_the_bearer_scheme_with_their_scope(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    audit = spec["paths"]["/api/v1/audit/events"]["get"]
    assert audit["security"] == [{"bearerAuth": ["audit"]}]
    assert {"200", "401", "403", "422"} <= set(audit["responses"])
    assert spec["paths"]["/api/v1/departments"]["get"]["security"] == []
    for rule in app.url_map.iter_rules():
        access_rule = rule_for(app, rule.endpoint)
        if not rule.rule.startswith("/api/v1/") or access_rule is None or access_rule.kind != "token":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert spec["paths"][path][method.lower()]["security"] == [{"bearerAuth": [access_rule.scope]}]


def test_responses_have_schemas_and_errors_are_problem_json(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    ok = spec["paths"]["/api/v1/audit/events"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AuditEventPage"}
    assert "AuditEvent" in spec["components"]["schemas"]
    unauthorized = spec["components"]["responses"]["UNAUTHORIZED"]
    problem = unauthorized["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert {"type", "title", "status", "detail", "errors"} <= set(
        spec["components"]["schemas"]["Problem"]["properties"]
    )


def test_docs_page_lists_methods_paths_parameters_and_token_needs(client):
    response = client.get("/api")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert "GET /api/v1/departments" in html
    assert "GET /api/v1/audit/events" in html
    assert "Audit events after a sequence number" in html
    assert "<code>after_seq</code>" in html and "<code>limit</code>" in html
    assert "API-Zugang (Bearer-Token) mit dem Bereich" in html and "<code>audit</code>" in html
    assert "öffentlich, ohne Anmeldung" in html
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
