"""Access rules: every route declares one, and one hook enforces them before the view runs.

    @bp.get("/")
    @access.public
    def index(): ...

A route without a rule is refused (fail closed), and tests/portal/test_route_access.py fails for it.
Finer permission checks (whose booking, which department) belong to the services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccessRule:
    kind: str  # public, signed_in, staff, role, token
    roles: frozenset[str] = frozenset()
    scope: str | None = None
    # Reachable by signed-in staff who still have to set up two-factor authentication.
    before_mfa: bool = False
    # kind "token" only: without a bearer token, a signed-in browser session will do (portal.api checks its CSRF).
    session: bool = False

    def describe(self) -> str:
        if self.kind == "role":
            return "role:" + "|".join(sorted(self.roles))
        if self.kind == "token":
            return f"token:{self.scope}" + ("|signed_in" if self.session else "")
        return self.kind


def _declare(rule: AccessRule) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorator


public = _declare(AccessRule("public", before_mfa=True))
signed_in = _declare(AccessRule("signed_in"))
signed_in_before_mfa = _declare(AccessRule("signed_in", before_mfa=True))


def roles(*names: str) -> Callable[[F], F]:
    """Signed in and holding one of the roles (global roles, or a department role in any department)."""
    return _declare(AccessRule("role", roles=frozenset(names)))


def token(scope: str) -> Callable[[F], F]:
    """A bearer token carrying this scope (Authorization: Bearer sp_...)."""
    return _declare(AccessRule("token", scope=scope))


def token_or_signed_in(scope: str) -> Callable[[F], F]:
    """A bearer token carrying this scope, or else a signed-in session: API routes a person uses from their
    browser as well as from a client holding a personal token (participation's proposals, comments, supports)."""
    return _declare(AccessRule("token", scope=scope, session=True))


# Holding any role, core or service-declared (see portal.declarations).
staff = _declare(AccessRule("staff"))

# Endpoints we do not write ourselves.
EXTERNAL_RULES = {
    "static": AccessRule("public", before_mfa=True),
    "api-docs.openapi_json": AccessRule("public", before_mfa=True),
}


def rule_for(app: Flask, endpoint: str | None) -> AccessRule | None:
    if endpoint is None:
        return None
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None) or EXTERNAL_RULES.get(endpoint)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _enforce() -> Any:
    if request.endpoint is None:  # 404/405 are raised by routing itself
        return None
    rule = rule_for(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("route %s has no access rule; refused", request.endpoint)
        abort(403)
    if rule.kind == "token":
        if rule.session and current_user.is_authenticated and not _bearer():
            return _mfa_gate(rule)
        from portal.accounts.tokens import authenticate_request

        authenticate_request(rule.scope or "")
        return None
    if rule.kind == "public":
        return _mfa_gate(rule)
    if not current_user.is_authenticated:
        if wants_json():
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if rule.kind == "role" and not any(current_user.has_role(r) for r in rule.roles):
        abort(403)
    if rule.kind == "staff" and not current_user.is_staff:
        abort(403)
    return _mfa_gate(rule)


def _bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _mfa_gate(rule: AccessRule) -> Any:
    """Staff must switch on two-factor authentication before they can do anything else."""
    if rule.before_mfa or not current_user.is_authenticated:
        return None
    user = current_user
    if user.is_staff and user.totp_enabled_at is None:
        return redirect(url_for("accounts.totp_setup"))
    return None


def init_app(app: Flask) -> None:
    app.before_request(_enforce)


def current_api_token() -> Any:
    return g.get("api_token")
