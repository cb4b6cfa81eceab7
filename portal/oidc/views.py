"""Sign-in with an external OpenID Connect provider: /oidc/anmelden starts it, /oidc/callback finishes it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from portal import access
from portal.extensions import limiter
from portal.oidc import services

bp = Blueprint("oidc", __name__, url_prefix="/oidc")

# The password sign-in's second step (portal.accounts.views), where staff with TOTP continue.
TOTP_PATH = "/anmelden/zwei-faktor"


@bp.app_context_processor
def oidc_login_button() -> dict[str, Any]:
    """For the login page: `oidc_login` is None unless a provider is configured."""
    if not services.is_configured():
        return {"oidc_login": None}
    return {"oidc_login": {"provider": services.provider_name(), "endpoint": "oidc.login"}}


@bp.get("/anmelden")
@limiter.limit("30 per minute")
@access.public
def login():
    if not services.is_configured():
        abort(404)
    try:
        return services.begin(url_for("oidc.callback", _external=True), request.args.get("next"))
    except services.OidcError as error:
        return render_template("oidc/error.html", message=error.message, provider=services.provider_name()), 502


@bp.get("/callback")
@limiter.limit("30 per minute")
@access.public
def callback():
    if not services.is_configured():
        abort(404)
    try:
        result = services.complete()
    except services.OidcError as error:
        status = 502 if error.reason == "provider_unreachable" else 400
        return render_template("oidc/error.html", message=error.message, provider=services.provider_name()), status
    if result.outcome is services.Outcome.NEEDS_TOTP:
        return redirect(TOTP_PATH)
    return redirect(result.next_url or url_for("pages.home"))
