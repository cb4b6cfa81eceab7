"""One error shape: HTML pages in the layout for people, RFC 9457 problem JSON for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, ServiceUnavailable

PROBLEM_BASE = "https://stadtportal.example/problems/"

TITLES = {
    400: _l("Die Anfrage ist ungültig"),
    401: _l("Anmeldung erforderlich"),
    403: _l("Kein Zugriff"),
    404: _l("Seite nicht gefunden"),
    405: _l("Methode nicht erlaubt"),
    409: _l("Konflikt mit dem aktuellen Stand"),
    413: _l("Die Anfrage ist zu groß"),
    415: _l("Format nicht unterstützt"),
    422: _l("Die Eingaben sind nicht gültig"),
    429: _l("Zu viele Anfragen"),
    500: _l("Ein interner Fehler ist aufgetreten"),
    503: _l("Der Dienst ist vorübergehend nicht erreichbar"),
}
PAGES = {400, 403, 404, 409, 413, 429, 500, 503}


def problem(
    status: int,
    detail: str | None = None,
    *,
    type_: str | None = None,
    title: str | None = None,
    errors: dict[str, list[str]] | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 problem response. `errors` maps field names to messages."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (type_ or str(status)),
        "title": title or str(TITLES.get(status, "Error")),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_problem() -> bool:
    """API paths, and clients asking for JSON, get problem JSON; people get a page."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
        in {"application/json", "application/problem+json"}
    )


def _detail_of(error: HTTPException) -> str | None:
    description = error.description
    # Werkzeug's generic English descriptions say less than our titles; only keep ones we wrote.
    if description and description != type(error).description:
        return str(description)
    return None


def handle_http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if wants_problem():
        errors = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
        flat = _flatten_errors(errors) if errors else None
        limit = _size_limit(status)
        detail = _detail_of(error) or (_too_large_detail(limit) if limit else None)
        extra: dict[str, Any] = {"max_bytes": limit} if limit else {}
        response = problem(status, detail, errors=flat, **extra)
    else:
        template = f"errors/{status if status in PAGES else 'generic'}.html"
        response = Response(
            render_template(template, status=status, title=TITLES.get(status, ""), detail=_detail_of(error)),
            status=status,
        )
    if status == 429 and error.response is not None:
        retry = error.response.headers.get("Retry-After")
        if retry:
            response.headers["Retry-After"] = retry
    return response


def _size_limit(status: int) -> int | None:
    """On 413, the byte limit this request had (it may be lower than MAX_CONTENT_LENGTH, see portal.files)."""
    return request.max_content_length if status == 413 else None


def _too_large_detail(limit: int) -> str:
    mb = f"{limit / 1024 / 1024:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return str(_l("Es dürfen höchstens %(mb)s MB auf einmal gesendet werden.", mb=mb))


def _flatten_errors(messages: Any) -> dict[str, list[str]]:
    """flask-smorest nests messages by location ({"json": {"email": [...]}}); clients want field → list."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for location, fields in messages.items():
            if isinstance(fields, dict):
                for name, msgs in fields.items():
                    flat[name] = [str(m) for m in msgs] if isinstance(msgs, list) else [str(msgs)]
            else:
                flat[location] = [str(m) for m in fields] if isinstance(fields, list) else [str(fields)]
    return flat


def handle_csrf_error(error: CSRFError) -> Any:
    return handle_http_error(error)


def handle_unexpected(error: Exception) -> Any:
    # Logged with its traceback for operators; the client sees no internals.
    from flask import current_app

    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_error(InternalServerError())


# A database that cannot be reached (or a transient refusal: a lock or statement timeout) is answered 503 with
# this many seconds in Retry-After: try again shortly, nothing was lost.
RETRY_AFTER_SECONDS = 30
log = logging.getLogger(__name__)


def handle_bad_value(error: Exception) -> Any:
    """The backstop of portal.inputs: a value the database or Python refused (a NUL byte, a number beyond the
    column, a date beyond datetime's range) that no form or schema caught. 400, logged without the value."""
    log.warning("bad input refused by %s at %s", type(_root(error)).__name__, request.endpoint)
    return handle_http_error(BadRequest())


def handle_database_error(error: sa_exc.DBAPIError) -> Any:
    """DataError is bad input (400); a lost connection or a timeout is 503 with Retry-After."""
    if isinstance(error, sa_exc.DataError):
        return handle_bad_value(error)
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError) and not error.connection_invalidated:
        return handle_unexpected(error)
    return database_unavailable(error)


def database_unavailable(error: Exception) -> Any:
    log.warning("database unavailable (%s) at %s", type(_root(error)).__name__, request.endpoint)
    try:
        response = handle_http_error(ServiceUnavailable())
    except Exception:  # the page's own helpers needed the database too: a plain answer still says "503"
        response = Response(str(TITLES[503]), status=503, mimetype="text/plain")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_statement_error(error: sa_exc.StatementError) -> Any:
    """Raised before the statement reached the database: the driver could not send a parameter."""
    if isinstance(error.orig, OverflowError | ValueError | UnicodeError):
        return handle_bad_value(error)
    return handle_unexpected(error)


def _root(error: BaseException) -> BaseException:
    return getattr(error, "orig", None) or error


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(OverflowError, handle_bad_value)
    app.register_error_handler(sa_exc.StatementError, handle_statement_error)
    app.register_error_handler(sa_exc.DBAPIError, handle_database_error)
    app.register_error_handler(sa_exc.DisconnectionError, database_unavailable)
    if not app.debug:
        app.register_error_handler(Exception, handle_unexpected)
