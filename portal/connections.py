"""Pooled database connections: checked before use only when they may have gone stale.

SQLAlchemy's `pool_pre_ping` asks the server on every checkout, one extra round trip per request (a fourth of
all round trips of a simple page). A connection that answered a moment ago is almost certainly still there;
one that sat in the pool for a while may have been cut by a database restart, a failover or a firewall's idle
timeout. So the ping happens only after DB_PING_AFTER_IDLE_SECONDS in the pool; a failed ping makes the pool
replace the connection (and, on a disconnect, every older one) before the request gets it. A connection cut
while in busy use still fails that one request, and SQLAlchemy then discards the pool's stale connections.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Flask

from portal.extensions import db

_CHECKED_IN_AT = "stadtportal_checked_in_at"


def init_app(app: Flask) -> None:
    config = app.config  # read at each checkout: tests change the threshold at run time
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite" or engine.pool._pre_ping:
        return

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN_AT)
        if since is not None and time.monotonic() - since < float(config.get("DB_PING_AFTER_IDLE_SECONDS", 0)):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise sa.exc.DisconnectionError("the pooled connection did not answer a ping") from error
        if not alive:
            raise sa.exc.DisconnectionError("the pooled connection did not answer a ping")
