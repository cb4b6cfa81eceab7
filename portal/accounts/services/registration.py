"""Registration of local accounts and verification of the address by a mailed link."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.accounts.services.common import (
    account_of_spent_token,
    external_url,
    find_email_token,
    find_user_by_email,
    issue_email_token,
    local_path,
    normalise_email,
)
from portal.actors import ANONYMOUS, Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import utcnow
from portal.transaction import transaction

VERIFY_PURPOSE = "verify_email"


def _send_verification(user: User, next_url: str | None = None) -> None:
    raw = issue_email_token(user, VERIFY_PURPOSE, timedelta(hours=current_app.config["EMAIL_TOKEN_HOURS"]))
    # The page the person was on (an invitation, say) travels in the link, so the way back survives the mail.
    extra = {"next": next_url} if local_path(next_url) else {}
    enqueue(
        user.email,
        _l("Bitte bestätigen Sie Ihre E-Mail-Adresse"),
        "account_verify",
        language=user.language,
        display_name=user.display_name,
        link=external_url("accounts.verify_email", token=raw, **extra),
        hours=current_app.config["EMAIL_TOKEN_HOURS"],
    )


def register(display_name: str, email: str, password: str, language: str = "de", next_url: str | None = None) -> None:
    """Create an unverified account and mail the verification link.

    The answer is the same whether or not the address is taken, so registration cannot be used to find out
    who has an account; the owner of a taken address gets a mail saying so instead. `next_url` (a local path)
    is carried through the mailed links to the sign-in that follows.
    """
    next_url = local_path(next_url)
    login_extra = {"next": next_url} if next_url else {}
    address = normalise_email(email)
    language = language if language in ("de", "en") else "de"
    with transaction():
        existing = find_user_by_email(address)
        if existing is not None:
            if existing.deleted_at is None:
                enqueue(
                    existing.email,
                    _l("Sie haben bereits ein Konto im Stadtportal"),
                    "account_exists",
                    language=existing.language,
                    display_name=existing.display_name,
                    login_link=external_url("accounts.login", **login_extra),
                    reset_link=external_url("accounts.password_forgot"),
                )
            audit.record(
                "account.register",
                ANONYMOUS,
                target=existing,
                subject_user_id=existing.id,
                outcome="denied",
                email=address,
                reason="address_taken",
            )
            return
        user = User(
            email=address,
            display_name=display_name.strip(),
            password_hash=hash_password(password),
            language=language,
        )
        db.session.add(user)
        db.session.flush()
        _send_verification(user, next_url)
        audit.record("account.register", ANONYMOUS, target=user, subject_user_id=user.id, email=address)


def verification_link_valid(raw_token: str) -> bool:
    """Whether the link is unused and unexpired; looking spends nothing (mail scanners open links too)."""
    return find_email_token(raw_token, VERIFY_PURPOSE) is not None


def verify_email(raw_token: str) -> bool:
    """Spend a verification link. False if it is unknown, used or expired."""
    with transaction():
        user = account_of_spent_token(raw_token, VERIFY_PURPOSE)
        if user is None:
            return False
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        audit.record(
            "account.email_verified", Actor.for_user(user), target=user, subject_user_id=user.id, email=user.email
        )
        return True


def resend_verification(email: str) -> None:
    """Send a fresh link to an unverified account. Same outcome for every address, known or not."""
    with transaction():
        user = find_user_by_email(email)
        if user is None or user.deleted_at is not None or user.email_verified_at is not None:
            return
        _send_verification(user)
        audit.record("account.verification_resent", ANONYMOUS, target=user, subject_user_id=user.id)
