"""Template helpers that the page templates call dozens of times per page, made cheap.

Measured on the home page (26 messages, 24 links): Flask-Babel's message look-up and Flask's `url_for` took
more time than Jinja itself. Messages are looked up in the request's catalogue directly (see
portal.i18n.RequestCachedDomain), and a link that depends only on its endpoint and arguments is built once
per worker and then reused: the URL map does not change while the app runs.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from threading import Lock
from typing import Any

from flask import Flask, has_request_context, request
from flask_babel import format_datetime, get_timezone

from portal.extensions import babel
from portal.timeutil import as_utc

URL_CACHE_SIZE = 4096


class CachedUrlFor:
    """`url_for` for templates: relative links are kept per (script root, endpoint, arguments).

    Anything whose answer depends on more than that is passed straight to Flask: links rendered outside a
    request (mails), external or anchored links, an explicit method or scheme, a blueprint-relative endpoint
    (".index"), and arguments that are not plain strings or numbers. Links carrying a query from the request
    (`next=...`) are kept too, but only the latest URL_CACHE_SIZE links are.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._built: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._lock = Lock()

    def __call__(self, endpoint: str, **values: Any) -> str:
        if (
            not has_request_context()
            or endpoint.startswith(".")
            or any(key.startswith("_") or not isinstance(value, str | int) for key, value in values.items())
        ):
            return self.app.url_for(endpoint, **values)
        key = (request.script_root, endpoint, *sorted(values.items()))
        try:
            return self._built[key]
        except KeyError:
            pass
        url = self.app.url_for(endpoint, **values)
        with self._lock:
            self._built[key] = url
            if len(self._built) > URL_CACHE_SIZE:
                self._built.popitem(last=False)
        return url


def _gettext(message: str) -> str:
    return babel.domain_instance.get_translations().ugettext(message)  # type: ignore[no-any-return]


def _ngettext(singular: str, plural: str, n: int) -> str:
    return babel.domain_instance.get_translations().ungettext(singular, plural, n)  # type: ignore[no-any-return]


def _pgettext(context: str, message: str) -> str:
    return babel.domain_instance.get_translations().upgettext(context, message)  # type: ignore[no-any-return]


def _npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return babel.domain_instance.get_translations().unpgettext(context, singular, plural, n)  # type: ignore[no-any-return]


# Babel patterns that are digits and dots only, the same in every language: strftime writes them ten times faster
# than Babel (a thread page formats a date per comment).
_NUMERIC_PATTERNS = {"dd.MM.yyyy, HH:mm": "%d.%m.%Y, %H:%M", "dd.MM.yyyy": "%d.%m.%Y", "HH:mm": "%H:%M"}


def _datetimeformat(value: Any, format: str | None = None, rebase: bool = True) -> str:
    """Flask-Babel's `datetimeformat` filter, with a fast path for the numeric patterns above."""
    pattern = _NUMERIC_PATTERNS.get(format or "")
    if pattern is None or not isinstance(value, datetime):
        return format_datetime(value, format, rebase)  # type: ignore[no-any-return]
    if rebase:
        value = as_utc(value).astimezone(get_timezone())
    return value.strftime(pattern)


def init_app(app: Flask) -> None:
    """Call after Flask-Babel's set-up, which installs its own (slower) callables."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext, newstyle=True
    )
    app.jinja_env.globals["url_for"] = CachedUrlFor(app)
    app.jinja_env.filters["datetimeformat"] = _datetimeformat
