"""Every API error leaves as RFC 9457 problem JSON, whatever raised it; no internals leak on a 500."""

from __future__ import annotations

import marshmallow as ma
import pytest
from flask import abort
from flask_smorest import Blueprint

from portal import access
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.api import register_api_blueprint
from portal.extensions import limiter


class EchoSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2))
    count = ma.fields.Integer(required=True)


@pytest.fixture
def app(app):
    """Test-only routes, added before the first request (Flask refuses later additions)."""
    blp = Blueprint("problem_test", __name__, url_prefix="/api/v1/test")

    @blp.route("/echo", methods=["POST"])
    @blp.arguments(EchoSchema)
    @blp.response(200, EchoSchema)
    @access.token("appointments")
    def echo(data):
        return data

    @blp.route("/conflict", methods=["POST"])
    @access.public
    def conflict():
        abort(409, "Der Termin ist inzwischen vergeben.")

    @blp.route("/boom")
    @access.public
    def boom():
        raise RuntimeError("secret internal detail /srv/app/db.py line 42")

    @blp.route("/token-boom")
    @access.token("appointments")
    def token_boom():
        raise RuntimeError("fails after the token was checked")

    @blp.route("/limited")
    @limiter.limit("1 per minute")
    @access.public
    def limited():
        return {"ok": True}

    register_api_blueprint(app, blp)
    return app


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    return body


@pytest.fixture
def token_header() -> dict[str, str]:
    _, raw = create_token(SYSTEM, "Fachverfahren", ["appointments"])
    return {"Authorization": f"Bearer {raw}"}


def test_400_for_a_body_that_is_not_json(client, token_header):
    response = client.post("/api/v1/test/echo", data="{not json", content_type="application/json", headers=token_header)
    assert_problem(response, 400)


def test_400_for_a_cookie_request_without_csrf_token(client):
    """Without a bearer token a write may ride on a browser session, so it needs the CSRF token."""
    client.set_cookie("session", "some-browser-session")
    body = assert_problem(client.post("/api/v1/test/conflict"), 400)
    assert "CSRF" in body.get("detail", "")


def test_a_request_without_cookies_or_token_needs_no_csrf_token(client):
    """Nothing ambient to ride on: an anonymous client (the public booking API) reaches the route."""
    assert_problem(client.post("/api/v1/test/conflict"), 409)


def test_valid_request_with_a_token_needs_no_csrf_token(client, token_header):
    response = client.post("/api/v1/test/echo", json={"name": "Anna", "count": 2}, headers=token_header)
    assert response.status_code == 200
    assert response.get_json() == {"name": "Anna", "count": 2}


def test_401_without_a_token_names_the_bearer_scheme(client):
    response = client.get("/api/v1/audit/events")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_401_with_an_unknown_token_says_the_token_is_invalid(client):
    response = client.get("/api/v1/audit/events", headers={"Authorization": "Bearer sp_nope"})
    assert_problem(response, 401)
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_403_for_a_token_without_the_scope(client):
    _, raw = create_token(SYSTEM, "Termine", ["appointments"])
    body = assert_problem(client.get("/api/v1/audit/events", headers={"Authorization": f"Bearer {raw}"}), 403)
    assert "audit" in body["detail"]


def test_404_for_an_unknown_path(client):
    assert_problem(client.get("/api/v1/gibt-es-nicht"), 404)


def test_405_for_a_wrong_method_lists_the_allowed_ones(client):
    response = client.delete("/api/v1/departments")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_409_carries_the_detail(client):
    body = assert_problem(client.post("/api/v1/test/conflict", headers={"Authorization": "Bearer x"}), 409)
    assert body["detail"] == "Der Termin ist inzwischen vergeben."


def test_422_lists_messages_per_field(client, token_header):
    response = client.post("/api/v1/test/echo", json={"name": "x"}, headers=token_header)
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"name", "count"}
    assert all(isinstance(m, list) and all(isinstance(s, str) for s in m) for m in body["errors"].values())


def test_422_for_a_bad_query_parameter(client):
    _, raw = create_token(SYSTEM, "SIEM", ["audit"])
    response = client.get("/api/v1/audit/events?after_seq=abc&limit=0", headers={"Authorization": f"Bearer {raw}"})
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"after_seq", "limit"}


def test_429_when_the_limit_is_reached(client):
    assert client.get("/api/v1/test/limited").status_code == 200
    response = client.get("/api/v1/test/limited")
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0


def test_500_hides_the_internals(client):
    response = client.get("/api/v1/test/boom")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret internal detail" not in text
    assert "Traceback" not in text
    assert "db.py" not in text
    assert set(body) <= {"type", "title", "status", "detail"}


def test_token_use_stays_audited_when_the_view_then_fails(client, token_header):
    import sqlalchemy as sa

    from portal.audit.models import AuditEvent
    from portal.extensions import db

    assert_problem(client.get("/api/v1/test/token-boom", headers=token_header), 500)
    db.session.rollback()
    used = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "token.used"))
    assert used is not None
    assert '"endpoint":"problem_test.token_boom"' in used.details


@pytest.mark.parametrize(
    "body",
    ["[" * 20_000 + "]" * 20_000, '{"location": ' + "9" * 5000 + "}"],
    ids=["nested-deeper-than-the-recursion-limit", "integer-longer-than-4300-digits"],
)
def test_400_for_json_that_pythons_decoder_cannot_take(client, body):
    """Every API blueprint shares portal.api.blueprint's parser: the public booking API is one of them."""
    response = client.post("/api/v1/appointments/bookings", data=body, content_type="application/json")
    assert_problem(response, 400)
