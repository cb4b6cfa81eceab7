"""Test fixtures: a fresh database per test built by the migrations, on SQLite or PostgreSQL.

The backend is chosen by STADTPORTAL_TEST_DB (sqlite, the default, or postgresql). PostgreSQL tests
use TEST_DATABASE_URL's server with one template database per xdist worker; every test gets the tables
emptied (PostgreSQL) or a fresh copy of the migrated file (SQLite).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.builders import AuthActions

BACKEND = os.environ.get("STADTPORTAL_TEST_DB", "sqlite")


def _remember_url_builders() -> None:
    """Every test makes its own app, and Werkzeug compiles two URL builder functions per route for each (Python
    source made and compiled: about a third of create_app's time). A builder depends only on the rule's text, its
    defaults and the flag, and reaches its converters through the rule it is bound to, so the tests share them."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    made: dict[tuple, object] = {}

    def remembered(self: Rule, append_unknown: bool = True):  # type: ignore[no-untyped-def]
        key = (self.rule, self.subdomain, self.host, self.merge_slashes, repr(sorted((self.defaults or {}).items())))
        key = (*key, tuple(self._trace), append_unknown)
        if key not in made:
            made[key] = compile_builder(self, append_unknown)
        return made[key]

    Rule._compile_builder = remembered  # type: ignore[method-assign]


_remember_url_builders()
PG_SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.schema_migrations import init_migrations

    app = create_app({"SQLALCHEMY_DATABASE_URI": url}, env="test")
    init_migrations(app)
    with app.app_context():
        upgrade()
        from portal.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate one database per worker; tests copy (SQLite) or reuse-and-truncate (PostgreSQL) it."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.sqlite"
        _migrate(f"sqlite:///{path}")
        yield str(path)
        return
    if BACKEND != "postgresql":
        raise RuntimeError(f"STADTPORTAL_TEST_DB must be sqlite or postgresql, not {BACKEND!r}")
    name = f"sp_test_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_SERVER_URL)
    try:
        _migrate(url)
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


_CLEANERS: dict[str, tuple[sa.Engine, str]] = {}


def _empty_postgres(url: str) -> None:
    """Empty every table a test wrote to and restart the sequences it used, as TRUNCATE ... RESTART IDENTITY of
    all tables would, at a fraction of the cost: TRUNCATE makes new files for each of ~100 tables and their
    indexes (about 0.2–0.5 s a test), while most tests write to a handful. The engine and the question "which
    tables have rows" (one statement) are kept per database."""
    if url not in _CLEANERS:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            ).scalars()
            filled = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
        _CLEANERS[url] = (engine, filled)
    engine, filled = _CLEANERS[url]
    with engine.begin() as conn:
        written = conn.execute(sa.text(filled)).scalars().all()
        # The audit triggers refuse DELETE, and foreign keys would want an order: as the superuser, tests may
        # switch both off (replica role) for cleaning up.
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table in written:
            conn.execute(sa.text(f'DELETE FROM "{table}"'))
        conn.execute(
            sa.text(
                "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
                "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
        )


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"
    else:
        yield database_template
        _empty_postgres(database_template)


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict:
    """Override in a test module to change settings for its app."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit-key.pem"),
        "SERVER_NAME": None,
    }


@pytest.fixture
def app(app_config: dict):
    from flask import g

    from portal import create_app
    from portal.extensions import db

    app = create_app(app_config, env="test")
    # The fixture keeps one app context open for the test body, so Flask would reuse its `g` for every
    # request the test makes; in production each request gets a fresh one. Give tests the same.
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: g.__dict__.clear())
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd) collecting what arrives."""
    from tests.smtp import CollectingSMTPServer

    server = CollectingSMTPServer()
    server.start()
    yield server
    server.stop()
