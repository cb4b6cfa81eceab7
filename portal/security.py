"""Security headers: a nonce-based CSP, no framing, a strict referrer policy, HSTS in production.

Cookies: the session and language cookies are HttpOnly and SameSite=Lax everywhere and Secure in production
(see portal.config); CSRF tokens guard every form (Flask-WTF's CSRFProtect, set up in the factory).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session

HSTS = "max-age=63072000; includeSubDomains"
FORM_ACTION_KEY = "stadtportal_csp_form_action"
IMG_SRC_KEY = "stadtportal_csp_img_src"
# A host source as CSP writes it: a host name, optionally a leading "*." wildcard label and a port.
_HOST_SOURCE = re.compile(r"(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def allow_form_action(app: Flask, url: str) -> None:
    """Let forms submit (or redirect after submitting) to another origin, e.g. a payment provider's checkout.

    Chromium applies `form-action` to the redirects that follow a form post too, so a service that answers a
    POST with a redirect to an external site must register that site here in its register(app).
    """
    parts = urlsplit(url)
    if parts.scheme in {"https", "http"} and parts.netloc:
        origins: set[str] = app.extensions.setdefault(FORM_ACTION_KEY, set())
        origins.add(f"{parts.scheme}://{parts.netloc}")


def allow_image_source(app: Flask, url: str) -> None:
    """Let pages load images from another origin, e.g. map tiles (portal.maps registers MAP_TILE_URL's origin).

    `url` may carry a "*." wildcard host ("https://*.tile.example.org"); anything else that is not an http(s)
    origin is refused with ValueError, so a typo in a setting cannot widen the policy.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not _HOST_SOURCE.fullmatch(parts.netloc or ""):
        raise ValueError(f"not an http(s) origin for img-src: {url!r}")
    origins: set[str] = app.extensions.setdefault(IMG_SRC_KEY, set())
    origins.add(f"{parts.scheme}://{parts.netloc}")


def content_security_policy(nonce: str) -> str:
    form_action = " ".join(["'self'", *sorted(current_app.extensions.get(FORM_ACTION_KEY, ()))])
    img_src = " ".join(["'self'", "data:", *sorted(current_app.extensions.get(IMG_SRC_KEY, ()))])
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        f"img-src {img_src}; font-src 'self'; connect-src 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    if current_app.config.get("ENV_NAME") == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    # A signed-in person's pages must not stay in a shared computer's cache or the back button's memory; nor
    # may pages whose address carries a secret token (booking, invitation, password reset links), which
    # anyone at that computer could otherwise reopen from the cache.
    secret_in_address = bool(request.view_args and "token" in request.view_args)
    if (
        ("_user_id" in session or secret_in_address)
        and response.mimetype == "text/html"
        and "Cache-Control" not in response.headers
    ):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    if app.config.get("OIDC_ISSUER"):
        # The sign-in button may post to our route, which redirects to the identity provider.
        allow_form_action(app, app.config["OIDC_ISSUER"])
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
