"""Forgotten passwords (a mailed single-use, expiring link) and changing the password while signed in."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts import sessions
from portal.accounts.models import UserSession
from portal.accounts.passwords import hash_password, verify_password
from portal.accounts.services.common import (
    AccountError,
    account_of_spent_token,
    external_url,
    find_email_token,
    find_user_by_email,
    issue_email_token,
)
from portal.actors import ANONYMOUS, Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import utcnow
from portal.transaction import transaction

RESET_PURPOSE = "reset_password"


def request_reset(email: str) -> None:
    """Mail a reset link if the address belongs to an account. The caller answers the same either way."""
    with transaction():
        user = find_user_by_email(email)
        if user is None or user.deleted_at is not None:
            audit.record("account.password_reset_requested", ANONYMOUS, outcome="failure", reason="unknown_address")
            return
        minutes = current_app.config["PASSWORD_RESET_MINUTES"]
        raw = issue_email_token(user, RESET_PURPOSE, timedelta(minutes=minutes))
        enqueue(
            user.email,
            _l("Passwort zurücksetzen"),
            "account_password_reset",
            language=user.language,
            display_name=user.display_name,
            link=external_url("accounts.password_reset", token=raw),
            minutes=minutes,
        )
        audit.record("account.password_reset_requested", ANONYMOUS, target=user, subject_user_id=user.id)


def reset_token_is_valid(raw_token: str) -> bool:
    return find_email_token(raw_token, RESET_PURPOSE) is not None


def _revoke_all_sessions(user_id: int) -> None:
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def reset_password(raw_token: str, new_password: str) -> bool:
    """Set a new password with a reset link. False if the link is unknown, used or expired.

    Every signed-in session of the account ends, and the lock from failed sign-ins is lifted.
    """
    with transaction():
        user = account_of_spent_token(raw_token, RESET_PURPOSE)
        if user is None:
            return False
        user.password_hash = hash_password(new_password)
        user.failed_logins = 0
        user.locked_until = None
        # The link arrived by mail, which proves the address just as the verification link would.
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        _revoke_all_sessions(user.id)
        audit.record("account.password_changed", ANONYMOUS, target=user, subject_user_id=user.id, method="reset_link")
        return True


def change_password(actor: Actor, current_password: str, new_password: str) -> None:
    """Change the password while signed in; other browsers are signed out, this one stays."""
    user = actor.user
    if user is None:
        raise AccountError(_("Bitte melden Sie sich an."))
    if not verify_password(user.password_hash, current_password):
        raise AccountError(_("Das bisherige Passwort ist nicht richtig."))
    with transaction():
        user.password_hash = hash_password(new_password)
        this_session = sessions.current_session_row(user)
        db.session.execute(
            sa.update(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.revoked_at.is_(None),
                UserSession.id != (this_session.id if this_session else -1),
            )
            .values(revoked_at=utcnow())
        )
        audit.record("account.password_changed", actor, target=user, subject_user_id=user.id, method="change")
