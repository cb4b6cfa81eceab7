"""Two-factor authentication with TOTP (RFC 6238): setup, code checks without reuse, one-time recovery codes."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
import sqlalchemy as sa

from portal.accounts.models import RecoveryCode, User
from portal.accounts.services.common import AccountError, NotAllowedError, hash_token
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

ISSUER = "Stadtportal"
RECOVERY_CODE_COUNT = 10
# Codes are 80 random bits, so a plain SHA-256 is enough to keep them from being read back out of a dump.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str
    qr_data_uri: str
    enabled: bool


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def check_totp(user: User, code: str) -> bool:
    """True if `code` is valid now (±1 step for clock drift) and newer than the last code accepted.

    Records the step on `user` (the caller commits), so the same code is refused the second time.
    """
    digits = _normalise_code(code)
    if not user.totp_secret or len(digits) != 6 or not digits.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.at(step * totp.interval), digits):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


def use_recovery_code(user: User, code: str) -> int | None:
    """Spend one unused recovery code; returns how many are left, or None if the code is not valid."""
    normalised = _normalise_code(code)
    if len(normalised) != _RECOVERY_LENGTH:
        return None
    spent = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(normalised),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return remaining_recovery_codes(user)


def remaining_recovery_codes(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _new_recovery_codes(user: User) -> list[str]:
    """Replace every earlier code of `user` with a fresh set, in the caller's transaction."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH)) for _ in range(10)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_token(code)) for code in codes)
    return [_format_code(code) for code in codes]


def _setup_for(user: User) -> TotpSetup:
    assert user.totp_secret
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    return TotpSetup(
        secret=user.totp_secret,
        uri=uri,
        qr_data_uri=qr.png_data_uri(scale=5, border=2),
        enabled=user.totp_enabled_at is not None,
    )


def begin_setup(actor: Actor) -> TotpSetup:
    """The secret to scan. A pending (not yet confirmed) secret is kept until confirmed, so reloading the page
    shows the same QR code; an enabled secret is never shown again."""
    user = actor.user
    if user is None:
        raise AccountError("no user")
    if user.totp_enabled_at is not None:
        return TotpSetup(secret="", uri="", qr_data_uri="", enabled=True)
    with transaction():
        if not user.totp_secret:
            user.totp_secret = pyotp.random_base32()
            user.totp_last_step = None
    return _setup_for(user)


def confirm_setup(actor: Actor, code: str) -> list[str]:
    """Switch TOTP on after a correct code; returns the recovery codes, which are shown this once only."""
    from flask_babel import gettext as _

    user = actor.user
    if user is None or not user.totp_secret or user.totp_enabled_at is not None:
        raise AccountError(_("Die Zwei-Faktor-Authentisierung ist bereits eingerichtet."))
    with transaction():
        if not check_totp(user, code):
            raise AccountError(_("Der Code ist nicht gültig. Bitte geben Sie den aktuellen Code aus der App ein."))
        user.totp_enabled_at = utcnow()
        codes = _new_recovery_codes(user)
        audit.record("account.totp_enabled", actor, target=user, subject_user_id=user.id)
        audit.record("account.recovery_codes_generated", actor, target=user, subject_user_id=user.id, count=len(codes))
    return codes


def regenerate_recovery_codes(actor: Actor) -> list[str]:
    """A fresh set of recovery codes; the old ones stop working."""
    from flask_babel import gettext as _

    user = actor.user
    if user is None or user.totp_enabled_at is None:
        raise AccountError(_("Richten Sie zuerst die Zwei-Faktor-Authentisierung ein."))
    with transaction():
        codes = _new_recovery_codes(user)
        audit.record("account.recovery_codes_generated", actor, target=user, subject_user_id=user.id, count=len(codes))
    return codes


def disable_totp(actor: Actor, password: str | None, code: str) -> None:
    """A citizen switches TOTP off again, confirmed with the current password (if the account has one) and a
    current code, so a borrowed unlocked browser alone cannot weaken the account. Staff must keep it."""
    from flask_babel import gettext as _

    from portal.accounts.passwords import verify_password

    user = actor.user
    if user is None or user.totp_enabled_at is None:
        raise AccountError(_("Die Zwei-Faktor-Authentisierung ist nicht eingeschaltet."))
    if user.is_staff:
        raise NotAllowedError(
            _("Für Beschäftigte der Verwaltung ist die Zwei-Faktor-Authentisierung Pflicht; sie bleibt eingeschaltet.")
        )
    if user.password_hash and not verify_password(user.password_hash, password or ""):
        _record_refusal(actor, user, "password")
        raise PasswordError(_("Das Passwort ist nicht richtig."))
    with transaction():
        if not check_totp(user, code):
            wrong_code = True
        else:
            wrong_code = False
            user.totp_enabled_at = None
            user.totp_secret = None
            user.totp_last_step = None
            db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
            audit.record("account.totp_disabled", actor, target=user, subject_user_id=user.id)
    if wrong_code:
        _record_refusal(actor, user, "code")
        raise AccountError(_("Der Code ist nicht gültig. Bitte geben Sie den aktuellen Code aus der App ein."))


class PasswordError(AccountError):
    """The confirming password was wrong (shown next to the password field)."""


def _record_refusal(actor: Actor, user: User, reason: str) -> None:
    with transaction():
        audit.record(
            "account.totp_disabled", actor, target=user, subject_user_id=user.id, outcome="failure", reason=reason
        )
