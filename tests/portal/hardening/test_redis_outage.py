"""Redis stopped in the middle of a run, and started again (issue 11, finding 2).

A real Redis server of the test's own holds the rate limits and the slot-search cache, as in production. The test
kills it while the portal uses it: searches and bookings go on without a 5xx, the limits fall back to the worker's
memory (counted in the metrics), /readyz says 503 naming the store; once Redis is back on the same port, the
limits and the readiness check return to it without a restart.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from portal import create_app
from portal.metrics import EXTENSION as METRICS
from tests.appointments.booking.builders import at, make_office, workday

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server on loopback, no persistence: stop() kills it as a crash would, start() brings it back."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not come up")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def app(app_config: dict, redis_server: RedisServer):
    config = {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": f"{redis_server.url}/0",
        "APPOINTMENTS_SEARCH_CACHE_URL": f"{redis_server.url}/1",
        "APPOINTMENTS_SEARCH_RATE_LIMIT": "1000/minute",
        "METRICS_ENABLED": True,
    }
    app = create_app(config, env="test")
    with app.app_context():
        yield app


def _fallbacks(app) -> tuple[float, float]:
    registry = app.extensions[METRICS].registry
    return (
        registry.get_sample_value("stadtportal_ratelimit_fallbacks_total") or 0.0,
        registry.get_sample_value("stadtportal_ratelimit_on_fallback") or 0.0,
    )


def _book(client, office, start, email: str):
    body = {
        "services": [{"id": office.service.id, "quantity": 1}],
        "location": office.location.id,
        "start": start.isoformat(),
        "name": "Erika Mustermann",
        "email": email,
    }
    return client.post("/api/v1/appointments/bookings", json=body)


def test_killing_redis_mid_run_costs_no_request_and_the_portal_returns_to_it(app, redis_server):
    client = app.test_client()
    office = make_office(counters=3)
    day = workday()
    slots = f"/api/v1/appointments/slots?service={office.service.id}&location={office.location.id}&from={day}&to={day}"

    # Before: limits counted in Redis, the search cached there.
    assert client.get(slots).status_code == 200
    assert _book(client, office, at(day, 9), "a@example.org").status_code == 201
    assert client.get("/readyz").status_code == 200
    assert redis.Redis.from_url(f"{redis_server.url}/0").dbsize() > 0
    assert _fallbacks(app) == (0.0, 0.0)

    redis_server.kill()

    # During: every answer is a real one, the booking shows in the next search, the store is reported down.
    statuses = [client.get(slots).status_code for _ in range(5)]
    booked = _book(client, office, at(day, 9), "b@example.org")
    nine = at(day, 9).isoformat()
    seats = [s["seats_left"] for s in client.get(slots).get_json()["slots"] if s["start"] == nine]
    ready = client.get("/readyz")
    assert statuses == [200] * 5
    assert booked.status_code == 201, booked.get_json()
    assert seats == [1]
    assert ready.status_code == 503
    assert "rate" in ready.get_data(as_text=True).lower()
    assert _fallbacks(app) == (1.0, 1.0)  # one switch, however many requests came while it lasted

    redis_server.start()  # same port, empty: Redis keeps nothing (as configured in production)

    # After: Flask-Limiter looks for its store again after a back-off (1 s, then 2 s, ...).
    deadline = time.monotonic() + 10
    while _fallbacks(app)[1] and time.monotonic() < deadline:
        time.sleep(0.3)
        assert client.get(slots).status_code == 200
    assert _fallbacks(app) == (1.0, 0.0)
    assert client.get("/readyz").status_code == 200
    assert _book(client, office, at(day, 9), "c@example.org").status_code == 201
    assert redis.Redis.from_url(f"{redis_server.url}/0").dbsize() > 0  # counting in Redis again
    seats = [s["seats_left"] for s in client.get(slots).get_json()["slots"] if s["start"] == nine]
    assert seats == []  # all three counters taken at nine: the cache did not serve an answer from before
