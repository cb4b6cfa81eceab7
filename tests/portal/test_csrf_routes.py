"""Every route that changes something (POST, PUT, PATCH, DELETE) refuses a request without a CSRF token from a
browser that holds a session (issue 11: a CSRF test that enumerates the routes).

The refusal is recognised by Flask-WTF's CSRFError reaching the error handler (the test app marks its answer),
not by the status alone: a form that answers 400 for a missing field would otherwise pass for one that checks
no token at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask_wtf.csrf import CSRFError

from portal import access, errors
from tests.builders import AuthActions, make_user
from tests.portal.test_route_requests import ALL_SERVICES, _url

MARK = "X-Test-CSRF-Refused"
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that take state-changing requests without a CSRF token, and why that is right. None so far: even the
# Stripe webhook refuses a request that carries a session cookie (Stripe sends none).
EXEMPT: dict[str, str] = {}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ALL_SERVICES, "RATELIMIT_ENABLED": False}


def _marking(app: Any) -> None:
    def refused(error: CSRFError) -> Any:
        response = errors.handle_csrf_error(error)
        response = app.make_response(response)
        response.headers[MARK] = "1"
        return response

    app.register_error_handler(CSRFError, refused)


def test_every_changing_route_refuses_a_request_without_csrf_token(app):
    _marking(app)
    make_user()
    client = app.test_client()
    AuthActions(client).login()
    assert client.get("/konto/").status_code == 200  # the session cookie a forged request would ride on
    routes = [
        (rule.endpoint, method, _url(rule))
        for rule in app.url_map.iter_rules()
        for method in sorted(set(rule.methods or ()) & CHANGING)
    ]
    assert len(routes) > 150
    accepted = []
    for endpoint, method, url in routes:
        kwargs: dict[str, Any] = {"json": {}} if url.startswith("/api/") else {"data": {"name": "x"}}
        response = client.open(url, method=method, **kwargs)
        refused = response.status_code == 400 and response.headers.get(MARK) == "1"
        rule = access.rule_for(app, endpoint)
        if rule is not None and rule.kind == "token" and not rule.session:
            # A bearer token alone admits; the session cookie a forged request could carry grants nothing.
            refused = response.status_code == 401
        if refused == (endpoint in EXEMPT):
            accepted.append(f"{method} {url} ({endpoint}): {response.status_code}, refused={refused}")
    assert not accepted, "routes that took a request without a CSRF token:\n" + "\n".join(accepted)


def test_the_mark_tells_a_csrf_refusal_from_other_answers(app):
    _marking(app)
    make_user()
    client = app.test_client()
    auth = AuthActions(client)
    auth.login()
    without = client.post("/sprache", data={"language": "en", "next": "/"})
    assert without.status_code == 400 and without.headers.get(MARK) == "1"
    with_token = auth.post_form("/sprache", {"language": "en", "next": "/"})
    assert with_token.status_code == 302 and MARK not in with_token.headers
