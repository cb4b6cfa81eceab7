"""Pages that only read: their statements run without a transaction around them (no BEGIN, no ROLLBACK).

    @bp.get("/<slug>")
    @access.public
    @reads_alone
    def consultation(slug): ...

psycopg sends BEGIN as a round trip of its own before a request's first statement, and the pool sends ROLLBACK
when the connection goes back: a page answered from the page store with one statement costs three round trips
where one would do. A ROLLBACK also makes psycopg forget the statements it has counted for preparing, so the
statements a busy page runs on every request are parsed and planned anew each time.

A GET or HEAD request to a view marked `@reads_alone` runs in autocommit mode on PostgreSQL. Under READ
COMMITTED, PostgreSQL's default and ours, each statement of a transaction takes a new snapshot anyway, so what
the statements read is the same with or without the transaction. What the mark promises is that the request
writes nothing that needs more than one statement: only single statements such as the session's last-seen time.
So the session refuses to flush changes and `portal.transaction.transaction()` refuses to start (RuntimeError),
on SQLite as well, where nothing else changes: a test of a marked view that writes fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request
from sqlalchemy.orm import Session

from portal.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

MARK = "reads_alone"
_READ_METHODS = frozenset({"GET", "HEAD"})


def reads_alone(view: F) -> F:
    """Mark a view whose GET and HEAD requests only read (see the module docstring). Put it next to the access
    rule, below the route, so that the function the route registers carries it."""
    setattr(view, MARK, True)
    return view


def active() -> bool:
    """Whether the current request is one a marked view answers with reads alone."""
    if not has_request_context() or request.method not in _READ_METHODS or request.endpoint is None:
        return False
    return getattr(current_app.view_functions.get(request.endpoint), MARK, False)


class ReadsAloneWriteError(RuntimeError):
    """A view marked @reads_alone tried to write a unit of work: mark it no longer, or move the write elsewhere."""


def refuse_unit_of_work() -> None:
    if active():
        raise ReadsAloneWriteError(f"{request.endpoint} is marked @reads_alone but starts a transaction")


@sa.event.listens_for(Session, "after_begin")
def _without_transaction(session: Session, transaction: Any, connection: sa.Connection) -> None:
    # SQLAlchemy's begin sends nothing with psycopg (BEGIN goes out with the first statement), so the connection
    # is still idle here and may switch to autocommit; the pool's checkin (init_app) switches it back.
    session.info[MARK] = marked = active()
    if marked and connection.dialect.name == "postgresql":
        connection.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]


@sa.event.listens_for(Session, "before_flush")
def _no_unit_of_work(session: Session, flush_context: Any, instances: Any) -> None:
    # Before the flush's own begin: the session may have no transaction yet, so ask the request.
    if (session.new or session.dirty or session.deleted) and active():
        raise ReadsAloneWriteError(f"{request.endpoint} is marked @reads_alone but flushes changes")


def _end_reading(error: BaseException | None) -> None:
    # Under gunicorn the app context ends with the request and takes the session with it. Where an outer app
    # context keeps the session (tests, CLI), the next request must not inherit a connection in autocommit, so
    # the session's "transaction" ends here, keeping what it loaded as the open transaction did (nothing was
    # written: the guards above saw to that).
    if not db.session.registry.has():
        return
    session = db.session()
    if not session.info.get(MARK) or not session.in_transaction():
        return
    if error is not None:
        session.rollback()
        return
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def init_app(app: Flask) -> None:
    app.teardown_request(_end_reading)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return

    @sa.event.listens_for(engine, "checkin")
    def _back_to_transactions(dbapi_connection: Any, record: Any) -> None:
        # Idle by now: the pool's reset ran first (and sent nothing, since autocommit has no transaction to end).
        if dbapi_connection is not None and dbapi_connection.autocommit and not dbapi_connection.closed:
            dbapi_connection.autocommit = False
