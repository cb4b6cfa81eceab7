"""Public pages: home, legal pages, language switch, health check, front-end assets."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from portal import access, health, page_cache
from portal.accounts.services.common import local_path
from portal.actors import current_actor
from portal.config import BASE_DIR
from portal.extensions import limiter
from portal.i18n import LANGUAGE_COOKIE
from portal.pages import services
from portal.pages.forms import AccessibilityFeedbackForm
from portal.reads_alone import reads_alone

bp = Blueprint("pages", __name__)
HEALTHY = b'{"status":"ok"}\n'  # encoded once: probes come every few seconds from every balancer

ASSET_DIR = BASE_DIR / "node_modules" / "@kern-ux" / "native" / "dist"


@bp.get("/")
@access.public
@page_cache.anonymous
def home():
    landings = current_app.extensions.get("stadtportal_landing", [])
    return render_template(
        "portal/home.html",
        services=[s for s in landings if s.available],
        planned=[s for s in landings if not s.available],
    )


@bp.get("/impressum")
@access.public
@page_cache.anonymous
def impressum():
    return render_template("portal/impressum.html")


@bp.get("/datenschutz")
@access.public
@page_cache.anonymous
def datenschutz():
    return render_template("portal/datenschutz.html")


def _local_path(value: str | None) -> str:
    """Only a path on this site is taken over into the form, never a foreign address."""
    if value and value.startswith("/") and not value.startswith("//"):
        return value[:500]
    return ""


@bp.get("/barrierefreiheit")
@access.public
def barrierefreiheit():
    form = AccessibilityFeedbackForm()
    form.page.data = _local_path(request.args.get("seite"))
    if current_user.is_authenticated:
        form.name.data = current_user.display_name
        form.email.data = current_user.email
    return _statement(form)


@bp.post("/barrierefreiheit")
@limiter.limit("5 per hour", deduct_when=lambda response: response.status_code == 302)
@access.public
def barrierefreiheit_feedback():
    form = AccessibilityFeedbackForm()
    if not form.validate_on_submit():
        return _statement(form)
    services.send_accessibility_feedback(
        current_actor(),
        message=form.message.data or "",
        page=form.page.data or "",
        name=form.name.data or "",
        email=form.email.data or "",
    )
    return redirect(url_for("pages.barrierefreiheit_thanks"))


def _statement(form: AccessibilityFeedbackForm) -> str:
    return render_template("portal/barrierefreiheit.html", form=form, contact=services.accessibility_contact())


@bp.get("/barrierefreiheit/danke")
@access.public
def barrierefreiheit_thanks():
    return render_template("portal/barrierefreiheit_danke.html", contact=services.accessibility_contact())


@bp.get("/api")
@access.public
def api_docs():
    from portal.api import describe_api

    return render_template("portal/api_docs.html", api=describe_api())


@bp.post("/sprache")
@access.public
def set_language():
    """The form of earlier versions of the layout; kept so a page open in a browser since then still works."""
    return _language_response(request.form.get("language", "de"), request.form.get("next"))


@bp.get("/sprache/<language>")
@access.public
def switch_language(language: str):
    """The layout's language link: sets the preference cookie and returns to the page."""
    return _language_response(language, request.args.get("next"))


def _language_response(language: str, next_path: str | None):
    if language not in current_app.config["LANGUAGES"]:
        abort(404 if request.method == "GET" else 400)
    response = redirect(local_path(next_path) or "/")
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    # The redirect's target depends on the choice just made; no cache may answer the next click with it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@access.public
def healthz():
    """Liveness: this process answers (see portal.health)."""
    return Response(HEALTHY, mimetype="application/json")


@bp.get("/favicon.ico")
@access.public
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page says: the portal's mark."""
    response = redirect(url_for("static", filename="img/favicon.svg"), code=301)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/readyz")
@access.public
@reads_alone
def readyz():
    """Readiness: the database, the shared rate-limit store and the mail relay answer (see portal.health)."""
    failures = health.readiness()
    if failures:
        return jsonify(status="unavailable", **failures), 503
    return jsonify(status="ok")


@bp.get("/assets/<path:filename>")
@access.public
def asset(filename: str):
    """KERN UX from its npm package, so nothing third-party is copied into static/."""
    if not (ASSET_DIR / Path(filename)).resolve().is_relative_to(ASSET_DIR.resolve()):
        abort(404)
    return send_from_directory(ASSET_DIR, filename, max_age=86400)
