"""What /healthz checks: the database answers."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from portal.extensions import db

log = logging.getLogger(__name__)


def database_reachable() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.exception("health check: database unreachable")
        db.session.rollback()
        return False
    return True
