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
    return _policy_template(current_app).replace(_NONCE_SLOT, nonce)


# Anything but a page needs no script, style or form at all: a JSON answer, an image, a download.
NON_HTML_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_POLICY_CACHE_KEY = "stadtportal_csp_template"
_STATIC_KEY = "stadtportal_static_headers"
_NONCE_SLOT = "{nonce}"


def _policy_template(app: Flask) -> str:
    """The page policy around its nonce, built once per set of registered origins (they change only at start)."""
    form_origins = tuple(sorted(app.extensions.get(FORM_ACTION_KEY, ())))
    img_origins = tuple(sorted(app.extensions.get(IMG_SRC_KEY, ())))
    cached = app.extensions.get(_POLICY_CACHE_KEY)
    if cached is not None and cached[0] == (form_origins, img_origins):
        return cached[1]
    form_action = " ".join(["'self'", *form_origins])
    img_src = " ".join(["'self'", "data:", *img_origins])
    template = (
        f"default-src 'self'; script-src 'self' 'nonce-{_NONCE_SLOT}'; style-src 'self' 'nonce-{_NONCE_SLOT}'; "
        f"img-src {img_src}; font-src 'self'; connect-src 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )
    app.extensions[_POLICY_CACHE_KEY] = ((form_origins, img_origins), template)
    return template


def _static_headers(app: Flask) -> tuple[tuple[str, str], ...]:
    headers: tuple[tuple[str, str], ...] = (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"),
    )
    if app.config.get("ENV_NAME") == "production":
        headers += (("Strict-Transport-Security", HSTS),)
    return headers


def _headers(response: Response) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    headers = response.headers
    # A view's own header wins (a download's sandbox policy, an API's Cache-Control): add only what is missing.
    present = {name.lower() for name, _ in headers}
    html = response.mimetype == "text/html"
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", content_security_policy(csp_nonce()) if html else NON_HTML_CSP)
    static = app.extensions.get(_STATIC_KEY) or app.extensions.setdefault(_STATIC_KEY, _static_headers(app))
    for name, value in static:
        if name.lower() not in present:
            headers.add(name, value)
    # A signed-in person's pages must not stay in a shared computer's cache or the back button's memory; nor
    # may pages whose address carries a secret token (booking, invitation, password reset links), which
    # anyone at that computer could otherwise reopen from the cache.
    if html and "cache-control" not in present:
        secret_in_address = bool(request.view_args and "token" in request.view_args)
        if secret_in_address or "_user_id" in session:
            headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    if app.config.get("OIDC_ISSUER"):
        # The sign-in button may post to our route, which redirects to the identity provider.
        allow_form_action(app, app.config["OIDC_ISSUER"])
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
