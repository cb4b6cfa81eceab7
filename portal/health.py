"""What the probes check.

`/healthz` is the liveness probe: the process answers requests. It touches nothing outside the process, so a
database or Redis outage never makes an orchestrator restart healthy workers, and a load balancer polling it
costs next to nothing. `/readyz` is the readiness probe: the database answers, and so does the shared
rate-limit store when one is configured (without it, limits fall back to each worker's memory), and the mail
relay (MAIL_SERVER) greets, so a load balancer sends no traffic to an instance that cannot serve it, and the
answer names what is down.
"""

from __future__ import annotations

import logging
import smtplib

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db, limiter

log = logging.getLogger(__name__)


def database_reachable() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.exception("readiness check: database unreachable")
        db.session.rollback()
        return False
    return True


def rate_limit_store_reachable() -> bool:
    """True when limits are off, kept in this process, or their shared store answers a ping."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    if str(current_app.config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
        return True
    try:
        return bool(limiter.storage.check())
    except Exception:  # the storage client raises its own errors (redis.ConnectionError, ...)
        log.exception("readiness check: rate-limit store unreachable")
        return False


def mail_relay_reachable() -> bool:
    """True when no relay is configured (development keeps the outbox), or the relay answers with its greeting.

    Only connects and says QUIT: no login, no message. MAIL_READY_TIMEOUT bounds the wait (a probe must not hang).
    """
    host = current_app.config.get("MAIL_SERVER")
    if not host:
        return True
    timeout = float(current_app.config.get("MAIL_READY_TIMEOUT", 2))
    try:
        relay = smtplib.SMTP(host, int(current_app.config.get("MAIL_PORT", 25)), timeout=timeout)
    except (OSError, smtplib.SMTPException):
        log.warning("readiness check: mail relay %s unreachable", host, exc_info=True)
        return False
    try:
        relay.quit()
    except (OSError, smtplib.SMTPException):
        relay.close()
    return True


def readiness() -> dict[str, str]:
    """What is not ready, by part ("database", "rate_limit_store", "mail_relay"); empty when everything answers."""
    failures: dict[str, str] = {}
    if not database_reachable():
        failures["database"] = "unreachable"
    if not rate_limit_store_reachable():
        failures["rate_limit_store"] = "unreachable"
    if not mail_relay_reachable():
        failures["mail_relay"] = "unreachable"
    return failures
