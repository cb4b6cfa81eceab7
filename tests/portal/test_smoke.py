"""The factory builds, the schema comes from the migrations, and the core pages answer."""

import pytest
import sqlalchemy as sa

from portal.extensions import db


def test_migrations_build_every_model_table(app):
    tables = set(sa.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


@pytest.mark.parametrize("path", ["/", "/impressum", "/datenschutz", "/barrierefreiheit", "/api", "/termine/"])
def test_public_pages_render_in_german_by_default(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert '<html lang="de">' in response.get_data(as_text=True)


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_unknown_api_path_answers_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_unknown_page_answers_html_in_the_layout(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_readyz_answers_503_when_the_database_is_unreachable_and_healthz_stays_up(app_config, tmp_path):
    from portal import create_app

    # A PostgreSQL URL on a port where nothing listens: the check fails fast and says so.
    app = create_app(
        {**app_config, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"},
        env="test",
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    # Liveness: restarting the process would not bring the database back.
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_answers_503_when_the_shared_rate_limit_store_is_unreachable(app_config):
    from portal import create_app

    app = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0"}, env="test"
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "rate_limit_store": "unreachable"}


def test_limited_routes_keep_answering_when_redis_is_down(app_config):
    from portal import create_app

    app = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0"}, env="test"
    )
    client = app.test_client()
    # The service list is limited per address; with its store gone it falls back to memory instead of a 500.
    for _ in range(3):
        assert client.get("/api/v1/appointments/services").status_code == 200
    assert client.get("/readyz").status_code == 503


def test_readyz_greets_the_mail_relay(app_config, smtp_server):
    from portal import create_app

    app = create_app({**app_config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port}, env="test")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ok"}
    assert smtp_server.messages == []  # greeted, nothing sent


def test_readyz_answers_503_naming_the_mail_relay_when_it_is_down(app_config):
    from portal import create_app
    from tests.smtp import _free_port

    app = create_app({**app_config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": _free_port()}, env="test")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "mail_relay": "unreachable"}
    assert app.test_client().get("/healthz").status_code == 200
