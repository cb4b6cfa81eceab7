"""Signed-in sessions: one UserSession row per browser, so sessions can be listed and revoked."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask import Flask, request, session
from flask_login import LoginManager, login_user, logout_user

from portal.accounts.models import User, UserSession
from portal.extensions import db
from portal.timeutil import utcnow


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def load_user(raw_token: str) -> User | None:
    row = db.session.execute(
        sa.select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _hash(raw_token), UserSession.revoked_at.is_(None))
    ).first()
    if row is None or not row.User.is_active:
        return None
    user: User = row.User
    user.session_token = raw_token
    return user


def start_session(user: User, method: str) -> UserSession:
    """Sign `user` in on this browser. The old session is dropped first, so its id cannot be fixated.

    Adds the UserSession row to the current transaction; the caller commits (with its audit event).
    """
    session.clear()
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
    session.clear()


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
