"""Small helpers shared by the accounts services: tokens sent by mail, links, errors, the audited actor."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for

from portal.accounts.models import EmailToken, User
from portal.extensions import db
from portal.timeutil import utcnow


class AccountError(Exception):
    """A rule said no. `message` is shown to the person (already translated or lazy)."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


class NotAllowedError(AccountError):
    """The actor may not do this."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh unguessable token for a mailed link and the hash we keep of it (we never store the raw value)."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for mail, built on BASE_URL: mail is rendered outside the request's own host name."""
    path = url_for(endpoint, **values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def local_path(value: str | None) -> str | None:
    """Only paths on this site: an open redirect would make our sign-in and mail links a phishing aid.

    Browsers drop tabs and line breaks inside a URL, so "/<TAB>/evil.example" becomes "//evil.example"; a
    value with any control character or whitespace is refused rather than cleaned.
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    return value[:500]


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    address = normalise_email(email)
    if not address:
        return None
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == address))


def issue_email_token(user: User, purpose: str, lifetime: timedelta) -> str:
    """Add a single-use EmailToken for `user` to the transaction; earlier unused ones of the same purpose lapse."""
    now = utcnow()
    db.session.execute(
        sa.update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw, hashed = new_token()
    db.session.add(EmailToken(token_hash=hashed, purpose=purpose, user_id=user.id, expires_at=now + lifetime))
    return raw


def find_email_token(raw: str, purpose: str) -> EmailToken | None:
    """The unused, unexpired token of this purpose, or None."""
    token = db.session.scalar(
        sa.select(EmailToken).where(EmailToken.token_hash == hash_token(raw or ""), EmailToken.purpose == purpose)
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token


def consume_email_token(raw: str, purpose: str) -> EmailToken | None:
    """Spend the token: the conditional update makes two simultaneous clicks count once."""
    token = find_email_token(raw, purpose)
    if token is None:
        return None
    spent = db.session.execute(
        sa.update(EmailToken).where(EmailToken.id == token.id, EmailToken.used_at.is_(None)).values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    db.session.refresh(token)
    return token


def account_of_spent_token(raw: str, purpose: str) -> User | None:
    """Spend the token and return its account; None if the link is unknown, used or expired, or the account gone."""
    token = consume_email_token(raw, purpose)
    if token is None:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or user.deleted_at is not None:
        return None
    return user
