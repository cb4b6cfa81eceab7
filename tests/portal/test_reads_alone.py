"""Views marked @reads_alone run their GET requests without BEGIN and ROLLBACK on PostgreSQL, and refuse to write a
unit of work on both databases; everything else keeps its transactions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg._connection_base as psycopg_connection
import pytest
import sqlalchemy as sa
from flask import jsonify, request

from portal import access
from portal.departments.models import Department
from portal.extensions import db
from portal.reads_alone import ReadsAloneWriteError, reads_alone
from portal.transaction import transaction


def _autocommit() -> bool | None:
    """Whether the statement about to run would run without a transaction (None on SQLite)."""
    dbapi = db.session.connection().connection.dbapi_connection
    return getattr(dbapi, "autocommit", None) if db.engine.dialect.name == "postgresql" else None


@pytest.fixture
def app(app):
    def count() -> Any:
        found = db.session.scalar(sa.select(sa.func.count()).select_from(Department))
        return jsonify(autocommit=_autocommit(), departments=found)

    def add() -> Any:
        if request.args.get("how") == "transaction":
            with transaction():
                db.session.add(Department(slug="neu", name="Neu"))
        else:
            db.session.add(Department(slug="neu", name="Neu"))
            db.session.flush()
        return jsonify(ok=True)

    def both() -> Any:
        if request.method == "POST":
            with transaction():
                db.session.add(Department(slug="post", name="Post"))
        return jsonify(autocommit=_autocommit())

    app.add_url_rule("/_test/count", "test_count", access.public(reads_alone(count)))
    app.add_url_rule("/_test/count-unmarked", "test_count_unmarked", access.public(lambda: count()))
    app.add_url_rule("/_test/add", "test_add", access.public(reads_alone(add)))
    app.add_url_rule("/_test/both", "test_both", access.public(reads_alone(both)), methods=["GET", "POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def commands() -> Iterator[list[bytes]]:
    """The commands psycopg sends outside statements (BEGIN, COMMIT, ROLLBACK)."""
    seen: list[bytes] = []
    original = psycopg_connection.BaseConnection._exec_command

    def spy(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(bytes(command) if isinstance(command, bytes | bytearray) else str(command).encode())
        return original(self, command, *args, **kwargs)

    psycopg_connection.BaseConnection._exec_command = spy  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg_connection.BaseConnection._exec_command = original  # type: ignore[method-assign]


def _postgres_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite sends no BEGIN of its own over a network")
    db.session.scalar(sa.select(1))  # the engine's first connection asks the server about itself
    db.session.remove()


def test_a_marked_read_sends_no_begin_and_no_rollback(app, client, commands):
    _postgres_only()
    db.session.remove()
    commands.clear()
    answer = client.get("/_test/count")
    assert answer.status_code == 200
    assert answer.json == {"autocommit": True, "departments": 0}
    assert not [c for c in commands if c.split()[0] in (b"BEGIN", b"ROLLBACK", b"COMMIT")], commands


def test_the_connection_goes_back_to_transactions_after_a_marked_read(app, client):
    _postgres_only()
    db.session.remove()
    assert client.get("/_test/count").json["autocommit"] is True
    # Every pooled connection is in transaction mode again, whichever the next request gets.
    pool = db.engine.pool
    held = [pool.connect() for _ in range(pool.checkedin())]
    try:
        assert held and all(not c.dbapi_connection.autocommit for c in held)
    finally:
        for c in held:
            c.close()


def test_unmarked_reads_and_writes_keep_their_transaction(app, client, commands):
    _postgres_only()
    db.session.remove()
    commands.clear()
    assert client.get("/_test/count-unmarked").json["autocommit"] is False
    assert commands[:1] == [b"BEGIN"]
    assert client.post("/_test/both").json["autocommit"] is False


def test_a_write_after_a_marked_read_in_the_same_session_is_one_transaction(app, client):
    """The tests' app context keeps one session for every request: the next request must not inherit autocommit."""
    _postgres_only()
    db.session.remove()
    assert client.get("/_test/both").json["autocommit"] is True
    assert client.post("/_test/both").json["autocommit"] is False
    assert db.session.scalar(sa.select(Department.slug).where(Department.slug == "post")) == "post"


@pytest.mark.parametrize("how", ["transaction", "flush"])
def test_a_marked_view_that_writes_fails_and_writes_nothing(app, client, caplog, how):
    db.session.remove()
    assert client.get(f"/_test/add?how={how}").status_code == 500
    assert ReadsAloneWriteError.__name__ in caplog.text
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 0


def test_posting_to_a_marked_view_writes_in_a_transaction(app, client):
    db.session.remove()
    assert client.post("/_test/both").status_code == 200
    assert db.session.scalar(sa.select(Department.slug)) == "post"


def test_the_marks_reach_the_registered_views(app):
    """The mark sits below the route, so flask-smorest's and the limiter's wrappers carry it to what Flask calls."""
    marked = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "reads_alone", False)}
    assert {
        "pages.readyz",
        "participation.consultation",
        "participation.proposal",
        "participation_api.proposal_comments",
        "appointments_catalogue_api.list_slots",
    } <= marked
