"""Bearer tokens for staff and machine clients: hashed, scoped, expiring, revocable."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import abort, g, request

from portal.accounts.models import ApiToken
from portal.extensions import db
from portal.timeutil import utcnow

TOKEN_PREFIX = "sp_"  # noqa: S105 - a public prefix, not a secret


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def find_valid_token(raw: str) -> ApiToken | None:
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    return token


def authenticate_request(scope: str) -> ApiToken:
    """Check the request's bearer token for `scope`; abort 401/403 with a problem response otherwise."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        abort(401)
    token = find_valid_token(header[7:].strip())
    if token is None:
        abort(401)
    if scope not in token.scope_set:
        abort(403)
    g.api_token = token
    return token
