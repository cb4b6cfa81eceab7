"""Absolute links on BASE_URL, inside a request or outside one (mail, CLI, the worker, provider callbacks)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter

_ADAPTER_KEY = "stadtportal_base_url_adapter"


def absolute_url(endpoint: str, **values: Any) -> str:
    """The public address of `endpoint`, always on BASE_URL (never on the Host header a request came with)."""
    return _adapter().build(endpoint, values, force_external=True)


def _adapter() -> MapAdapter:
    # Binding the URL map costs more than building a link, and API pages build a hundred links: one adapter per
    # BASE_URL (it only reads the map; tests change BASE_URL at run time, hence the key).
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    base_url = app.config["BASE_URL"]
    cached = app.extensions.get(_ADAPTER_KEY)
    if cached is not None and cached[0] == base_url:
        return cached[1]  # type: ignore[no-any-return]
    base = urlsplit(base_url)
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    app.extensions[_ADAPTER_KEY] = (base_url, adapter)
    return adapter
