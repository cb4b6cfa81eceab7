"""Sign-in with an external OpenID Connect provider (BundID via Keycloak), next to local accounts.

Authorization code flow with PKCE (S256); the provider is found by discovery
(<issuer>/.well-known/openid-configuration). Authlib checks state (kept in the session), the ID token's
signature, issuer, audience, expiry and nonce. We then find the account: by the linked (issuer, subject),
else by a verified email address (and link it), else we create a new, verified account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, session
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.accounts import sessions
from portal.accounts.models import OidcIdentity, User
from portal.accounts.services import signin
from portal.accounts.services.common import local_path
from portal.actors import ANONYMOUS, Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

CLIENT_NAME = "stadtportal_oidc"
NEXT_KEY = "oidc_next"
HTTP_TIMEOUT_SECONDS = 10


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    NEEDS_TOTP = "needs_totp"


@dataclass(frozen=True)
class OidcResult:
    outcome: Outcome
    user: User
    next_url: str | None
    created: bool = False
    linked: bool = False


class OidcError(Exception):
    """The sign-in could not be completed; `message` is safe to show to the person.

    `user_id` names the account the refusal concerns, if one was found (for the audit event).
    """

    def __init__(self, message: object, reason: str, user_id: int | None = None) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason
        self.user_id = user_id


def is_configured(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def provider_name() -> str:
    return str(current_app.config.get("OIDC_PROVIDER_NAME") or "OpenID Connect")


def _issuer() -> str:
    return str(current_app.config["OIDC_ISSUER"]).rstrip("/")


def _provider_errors(*, token: bool = False) -> tuple[type[BaseException], ...]:
    """What talking to the provider may raise. Authlib, requests and joserfc are imported on first use, like the
    client: together with urllib3 they are several MB of every worker's memory, and only sign-ins through the
    provider need them."""
    import requests
    from authlib.common.errors import AuthlibBaseError

    errors: tuple[type[BaseException], ...] = (requests.RequestException, AuthlibBaseError, ValueError)
    if token:
        from joserfc.errors import JoseError

        errors += (JoseError, KeyError)
    return errors


def _client() -> Any:
    """This app's Authlib client, made on first use (the configuration is only read then)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get(CLIENT_NAME)
    if client is None:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(app)
        client = oauth.register(
            "portal",
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config.get("OIDC_CLIENT_SECRET") or None,
            server_metadata_url=_issuer() + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": app.config.get("OIDC_SCOPES", "openid email profile"),
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT_SECONDS,
            },
        )
        app.extensions[CLIENT_NAME] = client
    return client


def _local_path(value: str | None) -> str | None:
    return local_path(value)


def begin(redirect_uri: str, next_url: str | None) -> Any:
    """The redirect to the provider. State, nonce and PKCE verifier stay in this browser's session."""
    if not is_configured():
        raise OidcError(_l("Die Anmeldung über einen externen Anbieter ist nicht eingerichtet."), "not_configured")
    try:
        response = _client().authorize_redirect(redirect_uri)
    except _provider_errors() as error:
        log.warning("oidc: provider unreachable at start: %s", error)
        raise OidcError(
            _l(
                "%(provider)s ist gerade nicht erreichbar. Bitte versuchen Sie es später noch einmal.",
                provider=provider_name(),
            ),
            "provider_unreachable",
        ) from error
    session[NEXT_KEY] = _local_path(next_url)
    return response


def _fetch_claims() -> dict[str, Any]:
    client = _client()
    try:
        token = client.authorize_access_token()
    except _provider_errors(token=True) as error:
        reason = getattr(error, "error", None) or type(error).__name__
        log.warning("oidc: callback refused: %s", reason)
        if reason == "access_denied":
            raise OidcError(_l("Sie haben die Anmeldung beim Anbieter abgebrochen."), "access_denied") from error
        raise OidcError(
            _l(
                "Die Anmeldung über %(provider)s ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.",
                provider=provider_name(),
            ),
            str(reason)[:64],
        ) from error
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise OidcError(_l("Der Anbieter hat kein gültiges ID-Token geliefert."), "no_id_token")
    if "email" not in claims:
        # Some providers keep the address out of the ID token; the userinfo endpoint has it.
        try:
            extra = dict(client.userinfo(token=token))
        except _provider_errors() as error:
            log.warning("oidc: userinfo failed: %s", error)
            extra = {}
        if extra.get("sub") == claims["sub"]:
            claims = {**extra, **claims}
    return claims


def _verified_email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    verified = claims.get("email_verified")
    if isinstance(verified, str):
        verified = verified.strip().lower() == "true"
    if isinstance(email, str) and "@" in email and verified is True:
        return email.strip().lower()[:254]
    return None


def _display_name(claims: dict[str, Any]) -> str:
    name = claims.get("name") or " ".join(
        str(claims[k]) for k in ("given_name", "family_name") if isinstance(claims.get(k), str)
    )
    return str(name).strip()[:200]


def _assurance_level(claims: dict[str, Any]) -> str | None:
    claim = current_app.config.get("OIDC_ASSURANCE_CLAIM") or "acr"
    value = claims.get(claim)
    return str(value)[:64] if value not in (None, "") else None


def _refuse(reason: str, issuer: str, user_id: int | None = None) -> None:
    audit.record(
        "account.login",
        ANONYMOUS,
        target_type="user_account" if user_id is not None else None,
        target_id=user_id,
        subject_user_id=user_id,
        outcome="denied",
        method="oidc",
        reason=reason,
        issuer=issuer,
    )


def complete() -> OidcResult:
    """Finish the sign-in at the callback: check the answer, find/link/create the account, sign in.

    Accounts with TOTP (all staff) are not signed in yet: they get the same pending marker as after a
    password and continue at the second-factor page.
    """
    if not is_configured():
        raise OidcError(_l("Die Anmeldung über einen externen Anbieter ist nicht eingerichtet."), "not_configured")
    next_url = _local_path(session.pop(NEXT_KEY, None))
    try:
        claims = _fetch_claims()
    except OidcError as error:
        with transaction():
            _refuse(error.reason, _issuer())
        raise
    issuer = str(claims.get("iss") or _issuer())
    subject = str(claims["sub"])[:255]
    level = _assurance_level(claims)
    try:
        try:
            with transaction():
                return _sign_in(issuer, subject, level, claims, next_url)
        except IntegrityError:
            # Two first sign-ins of the same person at once (a double click, two tabs): the other request
            # created the account and its link between our read and our insert. Ours is rolled back;
            # read again, find the identity that won and sign into it.
            log.info("oidc: concurrent first sign-in for one subject, signing into the winner")
            with transaction():
                return _sign_in(issuer, subject, level, claims, next_url)
    except OidcError as refused:
        # Nothing of the attempt is kept but the record of its refusal.
        with transaction():
            _refuse(refused.reason, issuer, refused.user_id)
        raise


def _find_identity(issuer: str, subject: str) -> OidcIdentity | None:
    return db.session.scalar(
        sa.select(OidcIdentity).where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    )


def _refuse_if_locked(user: User) -> None:
    """The lock after repeated password failures holds for every way in, not only the password form."""
    until = user.locked_until
    if until is not None and until > utcnow():
        raise OidcError(signin.locked_message(until), "locked", user.id)


def _sign_in(issuer: str, subject: str, level: str | None, claims: dict[str, Any], next_url: str | None) -> OidcResult:
    now = utcnow()
    identity = _find_identity(issuer, subject)
    created = linked = False
    if identity is not None:
        user = identity.user
        if not user.is_active:
            raise OidcError(_l("Dieses Konto ist gelöscht."), "deleted", user.id)
        _refuse_if_locked(user)
    else:
        email = _verified_email(claims)
        if email is None:
            raise OidcError(
                _l(
                    "%(provider)s hat keine bestätigte E-Mail-Adresse übermittelt. Ohne sie können wir kein Konto "
                    "anlegen oder verbinden.",
                    provider=provider_name(),
                ),
                "no_verified_email",
            )
        found = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
        if found is not None:
            if not found.is_active:
                raise OidcError(_l("Dieses Konto ist gelöscht."), "deleted", found.id)
            _refuse_if_locked(found)
            other = db.session.scalar(
                sa.select(OidcIdentity).where(OidcIdentity.user_id == found.id, OidcIdentity.issuer == issuer)
            )
            if other is not None:
                raise OidcError(
                    _l(
                        "Ihr Konto ist bereits mit einem anderen Zugang bei %(provider)s verbunden.",
                        provider=provider_name(),
                    ),
                    "other_subject_linked",
                    found.id,
                )
            user = found
            if user.email_verified_at is None:
                user.email_verified_at = now
        else:
            user = User(email=email, password_hash=None, display_name=_display_name(claims), email_verified_at=now)
            db.session.add(user)
            db.session.flush()
            created = True
            audit.record(
                "account.register",
                Actor.for_user(user),
                target=user,
                subject_user_id=user.id,
                email=email,
                method="oidc",
            )
        identity = OidcIdentity(issuer=issuer, subject=subject, user_id=user.id, linked_at=now)
        db.session.add(identity)
        linked = True
        audit.record(
            "account.oidc_linked",
            Actor.for_user(user),
            target=user,
            subject_user_id=user.id,
            issuer=issuer,
            assurance_level=level,
            created=created,
        )
    identity.assurance_level = level
    identity.last_login_at = now
    if user.totp_enabled_at is not None:
        # Whoever uses TOTP (staff must) gives the code here too: the same second step as after a
        # password, which writes the login event once the code is right.
        signin.begin_second_factor(user, next_url=next_url, method="oidc", issuer=issuer, assurance_level=level)
        return OidcResult(Outcome.NEEDS_TOTP, user, next_url, created, linked)
    user.failed_logins = 0
    sessions.start_session(user, "oidc")
    audit.record(
        "account.login",
        Actor.for_user(user),
        target=user,
        subject_user_id=user.id,
        method="oidc",
        issuer=issuer,
        assurance_level=level,
    )
    return OidcResult(Outcome.SIGNED_IN, user, next_url, created, linked)


def session_assurance_level(user: User) -> str | None:
    """The assurance level ("Vertrauensniveau") of this browser's sign-in, if it was made via OIDC."""
    row = sessions.current_session_row(user)
    if row is None or not row.method.startswith("oidc"):
        return None
    return db.session.scalar(
        sa.select(OidcIdentity.assurance_level)
        .where(OidcIdentity.user_id == user.id)
        .order_by(OidcIdentity.last_login_at.desc().nulls_last())
        .limit(1)
    )


__all__ = [
    "OidcError",
    "OidcResult",
    "Outcome",
    "begin",
    "complete",
    "is_configured",
    "provider_name",
    "session_assurance_level",
]
