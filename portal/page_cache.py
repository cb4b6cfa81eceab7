"""Pages that are the same for every visitor who is not signed in, rendered once per language and reused.

    @bp.get("/")
    @access.public
    @page_cache.anonymous
    def home(): ...

Only for pages whose content depends on nothing but the address and the language (the home page, the legal
pages), or that may be a few seconds old for readers who are not signed in (see `setting`). A request is
served from the cache only when it carries no session cookie and no Authorization header (so no signed-in
person, no flashed message, no CSRF token), and an answer is kept only when rendering it wrote nothing into
the session and set no cookie. Each answer still gets its own CSP nonce: the cached body keeps a placeholder
where the nonce was, filled per response. Entries live PAGE_CACHE_SECONDS (or the view's own setting; 0
switches the cache off) and per worker; a deployment replaces the workers and so the cache.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from threading import Lock
from typing import Any, TypeVar

from flask import Response, current_app, g, make_response, request, session
from flask_babel import get_locale

from portal.security import csp_nonce

F = TypeVar("F", bound=Callable[..., Any])
MAX_ENTRIES = 512
EXTENSION = "stadtportal_page_cache"


class _Cache:
    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[str, str, str], tuple[float, bytes]] = OrderedDict()
        self.lock = Lock()
        # Stands in for the nonce in stored bodies; random per worker, so no page text can collide with it.
        self.slot = ("nonce-slot-" + secrets.token_hex(16)).encode()


def _cache() -> _Cache:
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(EXTENSION, _Cache())
    return cache  # type: ignore[no-any-return]


def anonymous_request() -> bool:
    """A reading request without session, remember cookie or token: the same answer for every such visitor."""
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return False
    cookies = request.cookies
    return not (
        cookies.get(current_app.config.get("SESSION_COOKIE_NAME", "session"))
        or cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    )


def anonymous(view: F | None = None, *, setting: str = "PAGE_CACHE_SECONDS") -> Any:
    """Cache the view's page for signed-out visitors for `setting` seconds (a config key; 0 switches it off).

    Pages with content that changes (a consultation's proposals and comments) name a setting of their own with
    a short lifetime: signed-out readers then see a new contribution a few seconds late, its author at once.
    """
    if view is None:
        return lambda wrapped: _cached(wrapped, setting)
    return _cached(view, setting)


def _cached(view: F, setting: str) -> F:
    @wraps(view)
    def cached_view(*args: Any, **kwargs: Any) -> Any:
        seconds = current_app.config.get(setting, 0)
        if not seconds or not anonymous_request():
            return view(*args, **kwargs)
        cache = _cache()
        key = (request.endpoint or "", request.full_path, str(get_locale()))
        entry = cache.entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            body = entry[1]
            if cache.slot in body:
                body = body.replace(cache.slot, csp_nonce().encode())
            return Response(body, mimetype="text/html")
        response = make_response(view(*args, **kwargs))
        if (
            response.status_code == 200
            and response.mimetype == "text/html"
            and not session.modified
            and "Set-Cookie" not in response.headers
        ):
            body = response.get_data()
            nonce = g.get("csp_nonce")  # None when the page has no inline script or style
            if nonce:
                body = body.replace(nonce.encode(), cache.slot)
            with cache.lock:
                cache.entries[key] = (time.monotonic() + seconds, body)
                while len(cache.entries) > MAX_ENTRIES:
                    cache.entries.popitem(last=False)
        return response

    return cached_view  # type: ignore[return-value]


def clear(app: Any) -> None:
    """Forget every stored page (tests, or after changing what a cached page shows)."""
    app.extensions.pop(EXTENSION, None)
