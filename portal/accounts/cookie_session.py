"""Flask's signed cookie session, without the work it repeats on every request.

Flask builds a new signing serializer (and derives its key) twice per request and computes every cookie
setting before it knows whether there is anything to save. Most requests carry no session at all: a visitor
reading public pages, a load balancer's probe, an API client with a bearer token. This interface answers
them without touching the serializer, and builds the serializer once per secret key.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer


class PortalSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._keys: Any = None
        self._serializer: URLSafeTimedSerializer | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # The key may be rotated at run time (tests do): the cache is keyed on the keys themselves.
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.cookies.get(self.get_cookie_name(app)):
            return None if not app.secret_key else self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            # Nothing to store and nothing to delete; only the cache hint Flask would add.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
