"""Signed-in sessions: one UserSession row per browser, so sessions can be listed and revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_login import LoginManager, login_user, logout_user

from portal.accounts.cookie_session import PortalSessionInterface
from portal.accounts.models import User, UserSession
from portal.extensions import db
from portal.timeutil import utcnow

LAST_SEEN_RESOLUTION = timedelta(minutes=5)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# Built once: every signed-in request runs it (building the expression cost more CPU than running it). The
# session's own columns, not its entity: only its times are read, and a second entity per request cost more CPU
# than the statement.
_SESSION_WITH_USER = (
    sa.select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == sa.bindparam("token_hash"), UserSession.revoked_at.is_(None))
)
_SET_SESSION = sa.update(UserSession).where(UserSession.id == sa.bindparam("session_id"))


def load_user(raw_token: str) -> User | None:
    row = db.session.execute(_SESSION_WITH_USER, {"token_hash": _hash(raw_token)}).first()
    if row is None or not row.User.is_active:
        return None
    user: User = row.User
    if _expired(row, user):
        _set_session(row.id, revoked_at=utcnow())
        return None
    user.session_token = raw_token
    _touch(row)
    return user


def _set_session(session_id: int, **values: object) -> None:
    """Write the session row's times and commit. The loader runs when the access hook first asks for
    current_user, before any view changes anything, so committing here cannot commit half of a use case."""
    try:
        db.session.connection().execute(_SET_SESSION, {"session_id": session_id, **values})
        db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()


def _expired(row: Any, user: User) -> bool:
    """`row`: the session's id, created_at and last_seen_at (as _SESSION_WITH_USER reads them).

    Past the absolute lifetime of every sign-in, or, for anyone holding a role, idle too long or past the
    staff's absolute lifetime (SESSION_ABSOLUTE_HOURS, STAFF_SESSION_IDLE_MINUTES, STAFF_SESSION_ABSOLUTE_HOURS).

    Idle time is counted from "last seen", which is kept to within LAST_SEEN_RESOLUTION (or a tenth of the
    idle limit, if that is shorter), so a session may end that much early, never late.
    """
    config = current_app.config
    now = utcnow()
    age = now - row.created_at
    if age > timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        return True
    idle = now - (row.last_seen_at or row.created_at)
    if idle <= timedelta(minutes=config["STAFF_SESSION_IDLE_MINUTES"]) and age <= timedelta(
        hours=config["STAFF_SESSION_ABSOLUTE_HOURS"]
    ):
        return False
    return bool(user.is_staff)  # only now: it loads the person's roles


def _touch(row: Any) -> None:
    """Keep "last seen" roughly current for the session list, without a write on every request."""
    now = utcnow()
    resolution = min(LAST_SEEN_RESOLUTION, timedelta(minutes=current_app.config["STAFF_SESSION_IDLE_MINUTES"]) / 10)
    if row.last_seen_at is not None and now - row.last_seen_at < resolution:
        return
    _set_session(row.id, last_seen_at=now)


def _clear_flask_session() -> None:
    """Empty the cookie session, and forget the CSRF token Flask-WTF cached for it in `g`: otherwise a form
    rendered later in the same app context would carry a token whose session half is gone."""
    session.clear()
    g.pop("csrf_token", None)


def start_session(user: User, method: str) -> UserSession:
    """Sign `user` in on this browser. The old session is dropped first, so its id cannot be fixated.

    Adds the UserSession row to the current transaction; the caller commits (with its audit event).
    """
    _clear_flask_session()
    raw = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=_hash(raw),
        user_id=user.id,
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:300],
        method=method,
    )
    db.session.add(row)
    user.session_token = raw
    login_user(user)
    session.permanent = True
    return row


def current_session_row(user: User) -> UserSession | None:
    if not user.session_token:
        return None
    return db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _hash(user.session_token)))


def end_session(user: User) -> None:
    """Revoke this browser's session row and clear the cookie session. The caller commits."""
    row = current_session_row(user)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    logout_user()
    _clear_flask_session()


def init_app(app: Flask, login_manager: LoginManager) -> None:
    app.session_interface = PortalSessionInterface()
    # The signed cookie ends with the longest sign-in (Flask's default would keep it 31 days).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
