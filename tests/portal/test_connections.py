"""Pooled PostgreSQL connections are pinged only after sitting idle, and a dead one is replaced, not used."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db


@pytest.fixture
def app_config(app_config):
    if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite has no server connection to lose")
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}}


def _backend_pid() -> int:
    pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    db.session.rollback()
    return int(pid)


def _kill(pid: int) -> None:
    other = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with other.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_use(app, client):
    app.config["DB_PING_AFTER_IDLE_SECONDS"] = 0  # every checkout counts as "after idle"
    db.engine.dispose()
    first = _backend_pid()
    _kill(first)
    # The ping finds the connection dead; the request gets a new one and answers.
    assert client.get("/readyz").status_code == 200
    assert _backend_pid() != first


def test_a_connection_used_a_moment_ago_is_not_pinged(app):
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    pings: list[int] = []
    original = db.engine.dialect.do_ping
    db.engine.dialect.do_ping = lambda conn: pings.append(1) or original(conn)  # type: ignore[method-assign]
    try:
        _backend_pid()  # the first checkout of a new connection may ping
        pings.clear()
        _backend_pid()
        _backend_pid()
    finally:
        db.engine.dialect.do_ping = original  # type: ignore[method-assign]
    assert pings == []
