"""Rendered consultation pages, comment threads and comments-API answers, kept under the consultation's cache
token (participation.cache_token) so that a change shows on the next request.

Two levels: a small LRU in each worker, and Redis (PARTICIPATION_CACHE_URL, empty: per worker only) shared by all
workers and hosts, so a page is rendered once per change rather than once per worker. Keys carry the consultation's
random token, so an old entry is simply never asked for again and expires; nothing is ever deleted.

Redis is a convenience, never a dependency: each call has a 100 ms timeout and no retries, and an error switches
Redis off in this process for DOWN_SECONDS; the worker's LRU and rendering go on, so an outage costs no 5xx. Since
the token comes from the database, the per-worker cache stays right without Redis too.

Entries live at most MAX_AGE seconds (and never past the moment the consultation's next phase starts or ends,
which the caller passes): that bounds what a cached page cannot notice, such as a department's new name.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from threading import Lock
from typing import cast

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

EXTENSION = "participation_page_store"
FORMAT = "1"  # part of every key: a deploy that changes what is stored starts afresh
MAX_AGE = 120
MAX_ENTRIES = 256  # per worker; a page of a big thread is about 100 kB
TIMEOUT_SECONDS = 0.1
DOWN_SECONDS = 5.0


class PageStore:
    def __init__(self, url: str, prefix: str) -> None:
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.lock = Lock()
        self.prefix = f"{prefix}:{FORMAT}"
        self.down_until = 0.0
        self.client = (
            redis.Redis.from_url(
                url,
                socket_timeout=TIMEOUT_SECONDS,
                socket_connect_timeout=TIMEOUT_SECONDS,
                retry_on_timeout=False,
                retry=Retry(NoBackoff(), 0),
            )
            if url
            else None
        )

    def _failed(self, error: Exception) -> None:
        if time.monotonic() >= self.down_until:
            log.warning("participation page cache: Redis unavailable, per worker only (%s)", error)
        self.down_until = time.monotonic() + DOWN_SECONDS

    def _shared(self) -> redis.Redis | None:
        return self.client if self.client is not None and time.monotonic() >= self.down_until else None

    def get(self, key: str) -> bytes | None:
        now = time.time()
        entry = self.entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        client = self._shared()
        if client is None:
            return None
        try:
            pipe = client.pipeline(transaction=False)
            pipe.get(f"{self.prefix}:{key}")
            pipe.pttl(f"{self.prefix}:{key}")
            value, ttl_ms = pipe.execute()
        except redis.RedisError as error:
            self._failed(error)
            return None
        if value is None or ttl_ms is None or ttl_ms <= 0:
            return None
        self._keep(key, cast(bytes, value), now + ttl_ms / 1000)
        return cast(bytes, value)

    def put(self, key: str, value: bytes, seconds: float) -> None:
        seconds = min(seconds, MAX_AGE)
        if seconds < 1:
            return
        self._keep(key, value, time.time() + seconds)
        client = self._shared()
        if client is None:
            return
        try:
            client.set(f"{self.prefix}:{key}", value, px=int(seconds * 1000))
        except redis.RedisError as error:
            self._failed(error)

    def _keep(self, key: str, value: bytes, until: float) -> None:
        with self.lock:
            self.entries[key] = (until, value)
            self.entries.move_to_end(key)
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)


def page_store(app: Flask | None = None) -> PageStore | None:
    """The app's store, or None when PARTICIPATION_CACHE is off (tests that look at rendering itself)."""
    app = app or current_app
    if EXTENSION not in app.extensions:
        on = app.config.get("PARTICIPATION_CACHE", True)
        url = app.config.get("PARTICIPATION_CACHE_URL") or ""
        prefix = app.config.get("PARTICIPATION_CACHE_PREFIX") or "stadtportal:participation"
        app.extensions[EXTENSION] = PageStore(url, prefix) if on else None
    found: PageStore | None = app.extensions[EXTENSION]
    return found
