"""Security headers, cookies, CSRF and the production factory's refusals."""

from __future__ import annotations

import re
import secrets

import pytest

from portal import create_app
from portal.security import allow_form_action

PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/not_used_by_these_tests"
GOOD_SECRET = secrets.token_urlsafe(32)


def _production_app(tmp_path, **overrides):
    config = {
        "SECRET_KEY": GOOD_SECRET,
        "SQLALCHEMY_DATABASE_URI": PG_URL,
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-key.pem"),
        # What payments' production check asks for (it refuses the sandbox provider).
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "PAYMENTS_BANK_IBAN": "DE75512108001245126199",
        **overrides,
    }
    return create_app(config, env="production")


def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}'", csp)
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_error_pages_and_api_answers_carry_the_headers_too(client):
    for path in ("/gibt-es-nicht", "/api/v1/gibt-es-nicht", "/healthz"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff", path


def test_each_response_gets_its_own_nonce(app, client):
    nonces = set()
    for _ in range(3):
        with app.app_context():  # a fresh g per request, as in a served app
            csp = client.get("/").headers["Content-Security-Policy"]
        nonces.add(re.search(r"'nonce-([^']+)'", csp).group(1))
    assert len(nonces) == 3


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_production_sends_hsts_and_secure_httponly_samesite_cookies(tmp_path):
    app = _production_app(tmp_path)
    # The feedback form puts a CSRF token in the session, so a cookie is set.
    response = app.test_client().get("/barrierefreiheit", base_url="https://stadtportal.example")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_language_cookie_is_secure(tmp_path):
    app = _production_app(tmp_path, WTF_CSRF_ENABLED=False)
    response = app.test_client().post(
        "/sprache", data={"language": "en", "next": "/"}, base_url="https://stadtportal.example"
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("sp_lang=en")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("secret", "database"),
    [
        (None, PG_URL),  # the development default
        ("dev-only-not-secret", PG_URL),
        ("too-short", PG_URL),
        (GOOD_SECRET, "sqlite:///stadtportal.sqlite"),
    ],
    ids=["default", "dev-only", "too-short", "good-secret-on-sqlite"],  # not the random secret: xdist workers
    # collect the tests each on its own and must see the same ids
)
def test_production_refuses_default_secrets_and_sqlite(tmp_path, secret, database):
    config = {"SQLALCHEMY_DATABASE_URI": database, "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "k.pem")}
    if secret is not None:
        config["SECRET_KEY"] = secret
    with pytest.raises(RuntimeError):
        create_app(config, env="production")


def test_post_without_csrf_token_gets_the_400_page(client):
    response = client.post("/sprache", data={"language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Die Anfrage ist ungültig" in html
    assert 'href="/impressum"' in html  # rendered in the layout
    assert "sp_lang" not in response.headers.get("Set-Cookie", "")


def test_feedback_post_with_a_wrong_csrf_token_is_refused(client):
    response = client.post("/barrierefreiheit", data={"csrf_token": "forged", "message": "Hallo"})
    assert response.status_code == 400


def test_every_form_on_the_core_pages_carries_a_csrf_token(client):
    for path in ("/barrierefreiheit", "/anmelden", "/registrieren"):
        html = client.get(path).get_data(as_text=True)
        forms = re.findall(r"<form\b.*?</form>", html, flags=re.S)
        assert forms, path
        for form in forms:
            if 'method="post"' in form:
                assert 'name="csrf_token"' in form, (path, form[:120])


@pytest.mark.parametrize("path", ["/", "/impressum", "/datenschutz", "/termine/"])
def test_reading_a_page_without_a_form_sets_no_cookie(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert 'name="csrf_token"' not in response.get_data(as_text=True)


def test_services_can_allow_an_external_form_target(app, client):
    allow_form_action(app, "https://checkout.provider.example/pay/123")
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.provider.example;" in csp


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 40,  # finding 7 of issue 11: accepted before
        "passwordpasswordpasswordpassword1234",
        "0123456789" * 4,  # ten different characters
        "abababababababababababcdcdcdcdcdcdcdcdcdcd",
    ],
)
def test_production_refuses_a_low_entropy_secret(tmp_path, secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _production_app(tmp_path, SECRET_KEY=secret)


@pytest.mark.parametrize(("kind", "size"), [("hex", 16), ("hex", 32), ("urlsafe", 32)])
def test_production_takes_a_generated_secret(tmp_path, kind, size):
    secret = secrets.token_hex(size) if kind == "hex" else secrets.token_urlsafe(size)
    assert _production_app(tmp_path, SECRET_KEY=secret).config["SECRET_KEY"] == secret


def test_production_refuses_in_memory_rate_limits_with_several_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        _production_app(tmp_path, WEB_CONCURRENCY=4, RATELIMIT_STORAGE_URI="memory://")
    # One worker may keep them in memory; several may with a shared store.
    _production_app(tmp_path, WEB_CONCURRENCY=1, RATELIMIT_STORAGE_URI="memory://")
    _production_app(tmp_path, WEB_CONCURRENCY=4, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")


def test_production_refuses_per_process_metrics_with_several_workers(tmp_path, monkeypatch):
    redis = "redis://127.0.0.1:6379/0"
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR"):
        _production_app(tmp_path, WEB_CONCURRENCY=4, RATELIMIT_STORAGE_URI=redis)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="writable directory"):
        _production_app(tmp_path, WEB_CONCURRENCY=4, RATELIMIT_STORAGE_URI=redis)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    # Metrics switched off need no directory, and /metrics is gone.
    app = _production_app(tmp_path, WEB_CONCURRENCY=4, RATELIMIT_STORAGE_URI=redis, METRICS_ENABLED=False)
    assert "metrics.scrape" not in app.view_functions


def test_production_names_every_problem_at_once(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(RuntimeError) as refused:
        _production_app(tmp_path, SECRET_KEY="a" * 40, WEB_CONCURRENCY=2)
    message = str(refused.value)
    assert "SECRET_KEY" in message and "RATELIMIT_STORAGE_URI" in message and "PROMETHEUS_MULTIPROC_DIR" in message
