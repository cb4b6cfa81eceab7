"""Signing in and out: password, then TOTP for those who use it; throttling and lockout per account and per IP.

Every attempt leaves an account.login event (success, failure or denied); a lock leaves account.locked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app, session
from flask_babel import gettext as _

from portal.accounts import sessions
from portal.accounts.models import LoginThrottle, User
from portal.accounts.passwords import hash_password, needs_rehash, verify_password
from portal.accounts.services import totp
from portal.accounts.services.common import find_user_by_email
from portal.actors import ANONYMOUS, Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from portal.transaction import transaction

PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 300


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    NEEDS_TOTP = "needs_totp"
    UNVERIFIED = "unverified"
    LOCKED = "locked"
    INVALID = "invalid"
    EXPIRED = "expired"  # the password step of a two-step sign-in is too old or missing


@dataclass(frozen=True)
class SignInResult:
    outcome: Outcome
    locked_until: datetime | None = None
    user: User | None = None


def locked_message(until: datetime | None) -> str:
    """What a locked account is told, whichever way it tries to sign in."""
    time_of_day = to_berlin(until).strftime("%H:%M") if until else ""
    return _("Anmeldung gesperrt: zu viele Fehlversuche, wieder möglich um %(time)s Uhr.", time=time_of_day)


def _config(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def _lock_minutes() -> timedelta:
    return timedelta(minutes=_config("LOGIN_LOCK_MINUTES", 15))


def _ip_throttle(ip: str | None) -> LoginThrottle:
    key = f"ip:{ip or 'unknown'}"[:100]
    row = db.session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0)
        db.session.add(row)
    # A shared address (a town hall, a school) should not stay suspect forever: failures fade after a quiet spell.
    if row.last_failure_at is not None and row.last_failure_at < utcnow() - _lock_minutes():
        row.failures = 0
    return row


def _active_lock(*candidates: datetime | None) -> datetime | None:
    now = utcnow()
    active = [c for c in candidates if c is not None and c > now]
    return max(active) if active else None


def _slow_down(failures: int) -> None:
    """Make each further guess cost time: a short, capped, server-side wait after LOGIN_SLOW_AFTER failures."""
    extra = failures - int(_config("LOGIN_SLOW_AFTER", 3))
    if extra <= 0:
        return
    delay = min(_config("LOGIN_SLOW_SECONDS", 0.5) * extra, _config("LOGIN_SLOW_MAX_SECONDS", 2.0))
    if delay > 0:
        time.sleep(delay)


def _record_failure(user: User | None, throttle: LoginThrottle, method: str, reason: str) -> SignInResult:
    """Count a failed attempt on the account and the address, lock either when it reaches its limit."""
    now = utcnow()
    throttle.failures += 1
    throttle.last_failure_at = now
    subject = user.id if user is not None else None
    audit.record(
        "account.login",
        ANONYMOUS,
        target=user,
        subject_user_id=subject,
        outcome="failure",
        method=method,
        reason=reason,
    )
    if user is not None:
        user.failed_logins += 1
        if user.failed_logins >= int(_config("LOGIN_LOCK_AFTER", 5)):
            user.locked_until = now + _lock_minutes()
            audit.record(
                "account.locked",
                ANONYMOUS,
                target=user,
                subject_user_id=user.id,
                reason="account",
                failures=user.failed_logins,
            )
    if throttle.failures >= int(_config("LOGIN_IP_LOCK_AFTER", 20)) and not _active_lock(throttle.locked_until):
        throttle.locked_until = now + _lock_minutes()
        audit.record(
            "account.locked",
            ANONYMOUS,
            target_type="login_throttle",
            target_id=throttle.key,
            reason="ip",
            failures=throttle.failures,
        )
    until = _active_lock(user.locked_until if user else None, throttle.locked_until)
    if until is not None:
        return SignInResult(Outcome.LOCKED, locked_until=until)
    return SignInResult(Outcome.INVALID)


def _deny_locked(user: User | None, until: datetime, method: str) -> SignInResult:
    audit.record(
        "account.login",
        ANONYMOUS,
        target=user,
        subject_user_id=user.id if user else None,
        outcome="denied",
        method=method,
        reason="locked",
    )
    return SignInResult(Outcome.LOCKED, locked_until=until)


def _succeed(user: User, method: str) -> SignInResult:
    user.failed_logins = 0
    user.locked_until = None
    sessions.start_session(user, method)
    audit.record("account.login", Actor.for_user(user), target=user, subject_user_id=user.id, method=method)
    return SignInResult(Outcome.SIGNED_IN, user=user)


def sign_in(email: str, password: str, ip: str | None, next_url: str | None = None) -> SignInResult:
    """The password step. Starts the session, or (TOTP users) leaves a short-lived pending marker instead."""
    failures_before = 0
    with transaction():
        user = find_user_by_email(email)
        throttle = _ip_throttle(ip)
        failures_before = max(throttle.failures, user.failed_logins if user else 0)
        until = _active_lock(user.locked_until if user else None, throttle.locked_until)
        if until is not None:
            return _deny_locked(user, until, "password")
        # Always hash, also for an unknown address (against a dummy hash): a quick "no" would tell by its
        # timing which addresses have an account.
        password_ok = verify_password(user.password_hash if user is not None else None, password)
        if user is None or user.deleted_at is not None or not password_ok:
            result = _record_failure(user, throttle, "password", "unknown_account" if user is None else "password")
        elif user.email_verified_at is None:
            audit.record(
                "account.login",
                ANONYMOUS,
                target=user,
                subject_user_id=user.id,
                outcome="denied",
                method="password",
                reason="unverified",
            )
            return SignInResult(Outcome.UNVERIFIED, user=user)
        else:
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            if user.totp_enabled_at is not None:
                begin_second_factor(user, next_url=next_url, method="password")
                return SignInResult(Outcome.NEEDS_TOTP, user=user)
            return _succeed(user, "password")
    _slow_down(failures_before + 1)
    return result


def begin_second_factor(user: User, next_url: str | None = None, method: str = "password", **details: Any) -> None:
    """Remember that `user` passed the first factor (`method`); the session proper starts after the code.

    Also used by the OIDC sign-in for staff with TOTP. The passed first factor is audited (stage
    "first_factor"), so a password that was right but never followed by a code still leaves a trace; the
    event of the completed sign-in follows once the code is right.
    """
    audit.record(
        "account.login",
        ANONYMOUS,
        target=user,
        subject_user_id=user.id,
        method=method,
        stage="first_factor",
        **details,
    )
    session.pop(PENDING_KEY, None)
    session[PENDING_KEY] = {
        "user_id": user.id,
        "until": time.time() + PENDING_SECONDS,
        "next": next_url,
        "method": method,
    }


def _pending_method() -> str:
    pending = session.get(PENDING_KEY)
    method = pending.get("method") if isinstance(pending, dict) else None
    return method if method in ("password", "oidc") else "password"


def pending_user_id() -> int | None:
    """The account whose password was just given, if that was less than PENDING_SECONDS ago."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    return pending.get("user_id")


def pending_next_url() -> str | None:
    pending = session.get(PENDING_KEY)
    return pending.get("next") if isinstance(pending, dict) else None


def complete_totp(code: str, ip: str | None) -> SignInResult:
    """The second step: a TOTP code (each accepted once) or a one-time recovery code."""
    user_id = pending_user_id()
    if user_id is None:
        session.pop(PENDING_KEY, None)
        return SignInResult(Outcome.EXPIRED)
    first = _pending_method()
    method = f"{first}+totp"
    failures_before = 0
    with transaction():
        user = db.session.get(User, user_id)
        throttle = _ip_throttle(ip)
        if user is None or user.deleted_at is not None or user.totp_enabled_at is None:
            session.pop(PENDING_KEY, None)
            return SignInResult(Outcome.EXPIRED)
        failures_before = max(throttle.failures, user.failed_logins)
        until = _active_lock(user.locked_until, throttle.locked_until)
        if until is not None:
            session.pop(PENDING_KEY, None)
            return _deny_locked(user, until, method)
        if totp.check_totp(user, code):
            return _succeed(user, method)
        remaining = totp.use_recovery_code(user, code)
        if remaining is not None:
            result = _succeed(user, f"{first}+recovery_code")
            audit.record(
                "account.recovery_code_used",
                Actor.for_user(user),
                target=user,
                subject_user_id=user.id,
                remaining=remaining,
            )
            return result
        result = _record_failure(user, throttle, method, "code")
        if result.outcome is Outcome.LOCKED:
            session.pop(PENDING_KEY, None)
    _slow_down(failures_before + 1)
    return result


def sign_out(actor: Actor) -> None:
    """End this browser's session (its UserSession row is revoked too)."""
    user = actor.user
    if user is None:
        return
    with transaction():
        audit.record("account.logout", actor, target=user, subject_user_id=user.id)
        sessions.end_session(user)
