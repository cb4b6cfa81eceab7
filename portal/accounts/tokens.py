"""Bearer tokens for staff and machine clients: hashed, scoped, expiring, revocable.

The raw token ("sp_" + 32 random bytes, urlsafe) is returned once at creation and never stored; the
database keeps its SHA-256 (enough for a high-entropy secret: there is nothing to brute-force) and the
first characters, so operators can tell tokens apart.

Use of a token is recorded once a minute, not per request (`authenticate_request`): a request a minute or more
after the last recorded use stamps `last_used_at` and writes a `token.used` audit event (scope and endpoint of
that request); the requests in between write nothing. A token's every request would otherwise
update one row and append to the audit chain, serialising all of a client's calls behind the chain's lock.
Every change a request makes, and every read of another department's data, is audited by its own use case with
the token as actor (e.g. `dataaccess.record_read`), so the trail still shows each of those; plain reads in
between (a feed, the catalogue) leave only the per-minute record. A request refused for a missing scope is
audited every time (`token.used`, outcome denied).

A machine client's token (one acting for no person) is kept in the worker process for KEPT_FOR seconds after
its look-up, so that a client's every call does not pay a statement for it (issue 8: the look-up was a fifth of
a data access's CPU). Its expiry is still checked on every request. Revoking it forgets it in the revoking
process at once; other workers accept it for at most KEPT_FOR seconds more, and a read of another department's
data confirms its token in the read's own statement (dataaccess.services.access_checks), so no data is read with
a revoked token. A person's token is looked up every time (the person may have been deactivated).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

from portal import declarations
from portal.accounts.models import ApiToken, User
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction

TOKEN_PREFIX = "sp_"  # noqa: S105 - a public prefix, not a secret
DEFAULT_DAYS = 90
MAX_DAYS = 730
SHOWN_PREFIX_LENGTH = 10
# A token's use is stamped and audited at most this often (see the module docstring).
USE_RECORDED_EVERY = timedelta(minutes=1)
KEPT_FOR = 1.0  # seconds a machine client's token is kept in the worker (see the module docstring)
_KEPT = "stadtportal_kept_tokens"
_clock = time.monotonic  # a name of its own, so that tests can move it on


class TokenError(Exception):
    """A token request that breaks a rule; the message is shown to the operator as it is."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class TokenPermissionError(TokenError):
    pass


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _require_admin(actor: Actor) -> None:
    if actor.kind == "system" or actor.has_role("platform_admin"):
        return
    raise TokenPermissionError(_l("Nur die Plattform-Administration verwaltet API-Zugänge."))


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted({s.strip() for s in scopes if s and s.strip()})
    if not chosen:
        raise TokenError(_l("Wählen Sie mindestens einen Bereich."), "scopes")
    # The core declares its feeds (audit, metrics); each service declares its own (portal.declarations).
    allowed = sorted(declarations.scopes())
    unknown = [s for s in chosen if s not in allowed]
    if unknown:
        raise TokenError(
            _l(
                "Unbekannter Bereich: %(scopes)s. Erlaubt: %(allowed)s.",
                scopes=", ".join(unknown),
                allowed=", ".join(allowed),
            ),
            "scopes",
        )
    return chosen


def create_token(
    actor: Actor,
    name: str,
    scopes: Iterable[str],
    user: User | str | None = None,
    expires_in_days: int = DEFAULT_DAYS,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is shown once and never again.

    `user` (a User or an email address) makes the token act as that staff member; without it the token
    is a machine client.
    """
    _require_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError(_l("Geben Sie einen Namen mit höchstens 100 Zeichen an."), "name")
    chosen = _clean_scopes(scopes)
    if not 1 <= expires_in_days <= MAX_DAYS:
        raise TokenError(_l("Die Gültigkeit muss zwischen 1 und %(max)s Tagen liegen.", max=MAX_DAYS), "days")
    with transaction():
        owner = _resolve_user(user)
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            name=name,
            token_hash=hash_token(raw),
            prefix=raw[:SHOWN_PREFIX_LENGTH],
            scopes=" ".join(chosen),
            user_id=owner.id if owner else None,
            created_by_id=actor.user.id if actor.user else None,
            expires_at=utcnow() + timedelta(days=expires_in_days),
        )
        db.session.add(token)
        audit.record(
            "token.created",
            actor,
            target=token,
            name=name,
            scopes=chosen,
            days=expires_in_days,
            for_user=owner.id if owner else None,
        )
    return token, raw


def _resolve_user(user: User | str | None) -> User | None:
    if user is None or user == "":
        return None
    if isinstance(user, str):
        found = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == user.strip().lower()))
        if found is None:
            raise TokenError(_l("Es gibt kein Konto mit dieser E-Mail-Adresse."), "user")
        user = found
    if not user.is_active or not user.is_staff:
        raise TokenError(_l("Zugänge für Personen gibt es nur für aktive Beschäftigte."), "user")
    return user


def revoke_token(actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token at once. Revoking it again changes nothing."""
    _require_admin(actor)
    with transaction():
        token = db.session.get(ApiToken, token_id)
        if token is None:
            raise TokenError(_l("Diesen Zugang gibt es nicht."), "id")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record("token.revoked", actor, target=token, name=token.name)
    _kept().pop(token.token_hash, None)
    return token


def list_tokens(actor: Actor) -> list[ApiToken]:
    """Every token, newest first, with its state (see `token_state`)."""
    _require_admin(actor)
    return list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def token_state(token: ApiToken) -> str:
    """active, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and as_utc(token.expires_at) <= utcnow():
        return "expired"
    return "active"


def _kept() -> dict[str, tuple[float, ApiToken]]:
    return current_app.extensions.setdefault(_KEPT, {})


def _keep(token: ApiToken) -> None:
    """A copy outside any session: the request's session and its commits never touch the kept one."""
    copy = ApiToken(**{column.key: getattr(token, column.key) for column in ApiToken.__table__.columns})
    _kept()[token.token_hash] = (_clock() + KEPT_FOR, copy)


def find_valid_token(raw: str) -> ApiToken | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(raw)
    kept = _kept().get(digest)
    if kept is not None and kept[0] > _clock():
        token = kept[1]
    else:
        found = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
        if found is None:
            return None
        token = found
        if token.user_id is None and token_state(token) == "active":
            _keep(token)
    if token_state(token) != "active":
        return None
    if token.user is not None and not token.user.is_active:
        return None
    return token


def _unauthorized(error: str | None = None) -> Unauthorized:
    params: dict[str, str | None] = {"realm": "stadtportal"}
    if error:
        params["error"] = error
    return Unauthorized(www_authenticate=WWWAuthenticate("bearer", params))


def revoked_meanwhile() -> Unauthorized:
    """The answer when a later statement of the request finds its (kept) token revoked: as if it had been
    found so at the start."""
    return _unauthorized("invalid_token")


def authenticate_request(scope: str) -> ApiToken:
    """Check the request's bearer token for `scope`; raise 401/403 (answered as problem JSON) otherwise.

    The use is recorded as the module docstring says, in a small transaction of its own committed before the
    view runs (the use happened even if the view then fails); in most requests there is nothing to record and
    no statement beyond the token's look-up.
    """
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise _unauthorized()
    token = find_valid_token(header[7:].strip())
    if token is None:
        raise _unauthorized("invalid_token")
    if scope not in token.scope_set:
        _record_use(token, scope, allowed=False)
        raise Forbidden(_l("Dieser Zugang hat nicht den Bereich „%(scope)s“.", scope=scope))
    last = token.last_used_at
    if last is None or as_utc(last) <= utcnow() - USE_RECORDED_EVERY:
        _record_use(token, scope, allowed=True)
    g.api_token = token
    return token


def _record_use(token: ApiToken, scope: str, *, allowed: bool) -> None:
    """Stamp last_used_at unless another request did within the minute, and audit the use if this one did (a
    refused use always). The UPDATE's condition decides between concurrent first requests: one of them wins."""
    now = utcnow()
    with transaction():
        stamped = db.session.execute(
            sa.update(ApiToken)
            .where(
                ApiToken.id == token.id,
                sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - USE_RECORDED_EVERY),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        # Another worker may have stamped it: either way this one need not try again within the minute. Not a
        # change to flush (it is in the database already, or about to be by the winner).
        set_committed_value(token, "last_used_at", now)
        if (kept := _kept().get(token.token_hash)) is not None:
            set_committed_value(kept[1], "last_used_at", now)
        if stamped.rowcount == 1 or not allowed:  # type: ignore[attr-defined]
            audit.record(
                "token.used",
                Actor.for_token(token),
                target=token,
                outcome="success" if allowed else "denied",
                scope=scope,
                endpoint=request.endpoint,
            )
