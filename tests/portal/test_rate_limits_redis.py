"""Rate limits stored in the real Redis at 127.0.0.1:6379, as production keeps them (issue 11: the tests kept
them in memory only; tests/portal/test_gunicorn.py shows production refusing in-memory limits with several
workers).

Needs Redis (REDIS_TEST_URL overrides the address): skipped when it is not reachable, except in CI.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from portal import create_app

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")


def _reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


if not _reachable():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"Redis is not reachable at {REDIS_URL}; CI must provide it")
    pytest.skip(f"Redis is not reachable at {REDIS_URL}", allow_module_level=True)


@pytest.fixture
def prefix():
    prefix = f"test-limits-{uuid.uuid4().hex[:10]}"
    yield prefix
    store = redis.Redis.from_url(REDIS_URL)
    for key in store.scan_iter(f"*{prefix}*"):
        store.delete(key)


def _worker(app_config: dict, prefix: str, store: str = REDIS_URL):  # one app, as a gunicorn worker builds it
    return create_app(
        {
            **app_config,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": store,
            "RATELIMIT_KEY_PREFIX": prefix,
            "APPOINTMENTS_SEARCH_RATE_LIMIT": "3/minute",
        },
        env="test",
    )


def _keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{prefix}*"))


def test_limits_are_counted_in_redis(app_config, prefix):
    client = _worker(app_config, prefix).test_client()
    assert [client.get("/api/v1/appointments/services").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/appointments/services")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["X-RateLimit-Limit"] == "3"
    # The count lives in Redis: another process reading the same keys sees it, and without them it starts over.
    keys = _keys(prefix)
    assert keys, "no counter in Redis"
    redis.Redis.from_url(REDIS_URL).delete(*keys)
    assert client.get("/api/v1/appointments/services").status_code == 200
    assert client.get("/readyz").status_code == 200  # and the readiness check pings the same Redis
