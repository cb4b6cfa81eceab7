"""Slot searches shared by all workers and hosts through Redis (APPOINTMENTS_SEARCH_CACHE_URL; off by default).

The database stays the truth; Redis only remembers answers computed from it. Each location has a random
generation token in Redis, replaced right after every commit that raised the location's availability version
(availability_version.BUMPED, published from the session's after_commit). A remembered answer is stored under
the token that was current when its computation began, so a hit needs no SQL at all: one round trip reads the
tokens, the answer comes from this worker's LRU or, on the first search after a change, from Redis.

Why a token and not the version number: the token is read before the rows, and only a commit replaces it, so
an answer can never be filed under a token newer than its rows. A random token cannot collide with one that
was evicted or lost in a restart, so Redis needs no persistence. The writer replaces the token before its
request answers, so nobody who saw a booking confirmed gets an answer from before it.

Failures: every Redis error falls back to the database path (the per-worker cache keyed on the version read
from the database) and switches Redis off in this process for DOWN_SECONDS, so an outage costs one short
timeout, never a 5xx. A token this process could not replace is kept and replaced (with every location's, by
a new epoch) as soon as Redis answers again; other processes' answers stay bounded by the entry's lifetime
(availability.CACHE_MAX_AGE), the same bound that covers writes the session cannot see.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import redis
from flask import Flask, current_app, has_app_context
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from appointments.services import availability_version

__all__ = ["SharedCache", "shared_cache"]

log = logging.getLogger(__name__)

EXTENSION = "appointments_search_shared"
FORMAT = "1"  # part of every key: a deploy that changes the stored shape starts afresh
TIMEOUT_SECONDS = 0.1
DOWN_SECONDS = 5.0
TOKEN_SECONDS = 24 * 3600  # a token nobody replaced for a day is dropped; the next search makes a new one
LOCK_MS = 2000
WAIT_SECONDS = 0.25  # how long a worker waits for another's computation before computing itself


def _token() -> str:
    return secrets.token_hex(8)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)  # bytes: the client does not decode


class SharedCache:
    """One Redis client per app (thread-safe pool), with the keys and the fallback bookkeeping."""

    def __init__(self, url: str, prefix: str) -> None:
        # No retries: a failed call falls back to the database at once instead of waiting for Redis.
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
            retry_on_timeout=False,
            retry=Retry(NoBackoff(), 0),
        )
        self.prefix = f"{prefix}:{FORMAT}"
        self.epoch_key = f"{self.prefix}:epoch"
        self.down_until = 0.0
        self.unpublished = False  # a token could not be replaced: start a new epoch when Redis is back

    def _location_key(self, location_id: int) -> str:
        return f"{self.prefix}:loc:{location_id}"

    def _failed(self, error: Exception) -> None:
        if time.monotonic() >= self.down_until:
            log.warning("slot search cache: Redis unavailable, computing from the database (%s)", error)
        self.down_until = time.monotonic() + DOWN_SECONDS

    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def generation(self, location_id: int) -> str | None:
        """The location's current generation (epoch and token), making missing ones; None when Redis fails."""
        if not self.available():
            return None
        location_key = self._location_key(location_id)
        try:
            if self.unpublished and not self._new_epoch():
                return None
            epoch, token = self.client.mget(self.epoch_key, location_key)
            if epoch is None or token is None:
                pipe = self.client.pipeline(transaction=False)
                pipe.set(self.epoch_key, _token(), nx=True)
                pipe.set(location_key, _token(), nx=True, ex=TOKEN_SECONDS)
                pipe.mget(self.epoch_key, location_key)
                epoch, token = pipe.execute()[-1]
        except redis.RedisError as error:
            self._failed(error)
            return None
        if epoch is None or token is None:  # evicted in between: treat as unknown, compute
            return None
        return f"{_text(epoch)}.{_text(token)}"

    def _new_epoch(self) -> bool:
        try:
            self.client.set(self.epoch_key, _token())
        except redis.RedisError as error:
            self._failed(error)
            return False
        self.unpublished = False
        return True

    def publish(self, location_ids: Iterable[int]) -> None:
        """New tokens for these locations (ALL_LOCATIONS among them: a new epoch for all), after their commit."""
        ids = set(location_ids)
        if not self.available():
            self.unpublished = True  # no waiting on a Redis known to be away: a new epoch once it is back
            return
        try:
            if availability_version.ALL_LOCATIONS in ids or self.unpublished:
                self.client.set(self.epoch_key, _token())
                self.unpublished = False
                return
            pipe = self.client.pipeline(transaction=False)
            for location_id in sorted(ids):
                pipe.set(self._location_key(location_id), _token(), ex=TOKEN_SECONDS)
            pipe.execute()
        except redis.RedisError as error:
            self.unpublished = True
            self._failed(error)

    def entry_key(self, generation: str, query: tuple) -> str:
        location_id, items, first_day, last_day, held_back = query
        services = ",".join(f"{service}:{quantity}" for service, quantity in items)
        return f"{self.prefix}:e:{location_id}:{generation}:{services}:{first_day}:{last_day}:{int(held_back)}"

    def load(self, key: str) -> bytes | None:
        try:
            value = self.client.get(key)
        except redis.RedisError as error:
            self._failed(error)
            return None
        return cast(bytes | None, value)

    def store(self, key: str, value: bytes, ttl_ms: int) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(key, value, px=max(1, ttl_ms))
            pipe.delete(key + ":lock")
            pipe.execute()
        except redis.RedisError as error:
            self._failed(error)

    def release(self, key: str) -> None:
        try:
            self.client.delete(key + ":lock")
        except redis.RedisError as error:
            self._failed(error)

    def claim(self, key: str) -> bool:
        """Whether this worker should compute the answer (no other is at it): one computation per change."""
        try:
            return bool(self.client.set(key + ":lock", b"1", nx=True, px=LOCK_MS))
        except redis.RedisError as error:
            self._failed(error)
            return True

    def wait_for(self, key: str) -> bytes | None:
        """The answer another worker is computing, once it is stored (None after WAIT_SECONDS)."""
        deadline = time.monotonic() + WAIT_SECONDS
        pause = 0.002
        while time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
            try:
                value, locked = self.client.mget(key, key + ":lock")
            except redis.RedisError as error:
                self._failed(error)
                return None
            if value is not None:
                return cast(bytes, value)
            if locked is None:  # the other worker gave up (an error): compute here
                return None
        return None


def shared_cache(app: Flask | None = None) -> SharedCache | None:
    """The app's shared cache, or None when APPOINTMENTS_SEARCH_CACHE_URL is empty."""
    app = app or current_app
    if EXTENSION not in app.extensions:
        url = app.config.get("APPOINTMENTS_SEARCH_CACHE_URL") or ""
        prefix = app.config.get("APPOINTMENTS_SEARCH_CACHE_PREFIX") or "stadtportal:slots"
        app.extensions[EXTENSION] = SharedCache(url, prefix) if url else None
    found: SharedCache | None = app.extensions[EXTENSION]
    return found


# --- the stored form ---------------------------------------------------------------------------------------


def encode(
    duration: int, slots: Sequence[tuple[datetime, int]], version: int, computed_at: datetime, valid_until: datetime,
    answer: tuple[bytes, str] | None,
) -> bytes:  # fmt: skip
    """One line of JSON (the result and its validity), then the API's body when it was made."""
    meta = {
        "d": duration,
        "s": [[int(start.timestamp()), seats] for start, seats in slots],
        "v": version,
        "c": computed_at.timestamp(),
        "u": valid_until.timestamp(),
        "e": answer[1] if answer else None,
    }
    return json.dumps(meta, separators=(",", ":")).encode() + b"\n" + (answer[0] if answer else b"")


def decode(value: bytes) -> dict[str, Any]:
    line, _sep, body = value.partition(b"\n")
    meta = json.loads(line)
    stamp = datetime.fromtimestamp
    return {
        "duration": meta["d"],
        "slots": [(stamp(start, UTC), seats) for start, seats in meta["s"]],
        "version": meta["v"],
        "computed_at": stamp(meta["c"], UTC),
        "valid_until": stamp(meta["u"], UTC),
        "answer": (body, meta["e"]) if meta["e"] is not None else None,
    }


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    bumped = session.info.pop(availability_version.BUMPED, None)
    if bumped and has_app_context():
        shared = shared_cache()
        if shared is not None:
            shared.publish(bumped)
