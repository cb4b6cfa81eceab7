"""Structured logs with a request id per request."""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id and any `extra={...}` fields."""

    RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    _second = -1
    _second_text = ""

    def _time(self, record: logging.LogRecord) -> str:
        # Formatting the time costs more than the rest of the line; it changes once a second.
        second = int(record.created)
        if second != self._second:
            self._second_text = self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z")
            self._second = second
        return self._second_text

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        fields = record.__dict__
        for key in fields.keys() - self.RESERVED:
            if not key.startswith("_"):
                entry[key] = fields[key]
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _start_request() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    # Accept a proxy's id only if it looks like one; otherwise make our own.
    g.request_id = (
        incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() else (secrets.token_hex(8))
    )
    g.request_started = time.perf_counter()


def loggable_path() -> str:
    """The request path with a secret token in it masked: logs are kept longer and read by more people."""
    path = request.path
    token = (request.view_args or {}).get("token")
    if isinstance(token, str) and token:
        path = path.replace(token, "***")
    return path


# Load balancers and orchestrators ask every few seconds; their lines would bury everything else. The
# metrics still count them.
UNLOGGED_ENDPOINTS = frozenset({"pages.healthz", "pages.readyz"})


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    started = g.get("request_started")
    if (
        started is not None
        and request.endpoint not in UNLOGGED_ENDPOINTS
        and not request.path.startswith(("/static/", "/assets/"))
    ):
        logging.getLogger("stadtportal.request").info(
            "%s %s %s",
            request.method,
            loggable_path(),
            response.status_code,
            extra={
                "status": response.status_code,
                "endpoint": request.endpoint,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
    if not app.testing:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
            root.addHandler(handler)
        root.setLevel(logging.INFO)
