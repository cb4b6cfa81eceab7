"""Issue 11: Redis stopped in the middle of a run, then started again.

A real redis-server of the test's own (a free port, no persistence) holds the rate limits and the slot-search
cache; the test kills it with SIGKILL while the app is serving, and starts a new one on the same port, which
is what a crashed and restarted Redis looks like to the app (empty, same address). Bounded: about ten
seconds at most, most of it waiting for Flask-Limiter's recovery probe.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa

from appointments.models import Booking
from appointments.services import search_cache
from portal.audit.models import AuditEvent, AuditPending
from portal.extensions import db
from tests.appointments.booking.builders import at, make_office, workday

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
SEARCH_LIMIT = 6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            self.process = None

    def keys(self, prefix: str) -> list[bytes]:
        return list(redis.Redis.from_url(self.url).scan_iter(f"*{prefix}*"))


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    server = RedisProcess(_free_port())
    server.start()
    yield server
    server.kill()


@pytest.fixture
def prefix() -> str:
    return f"outage-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def app_config(app_config, redis_process, prefix, monkeypatch):
    # The cache would otherwise leave Redis alone for 5 s after a failure; the behaviour is the same, only sooner.
    monkeypatch.setattr(search_cache, "DOWN_SECONDS", 0.2)
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_process.url,
        "RATELIMIT_KEY_PREFIX": f"{prefix}-limits",
        "APPOINTMENTS_SEARCH_RATE_LIMIT": f"{SEARCH_LIMIT}/minute",
        "APPOINTMENTS_SEARCH_CACHE_URL": redis_process.url,
        "APPOINTMENTS_SEARCH_CACHE_PREFIX": f"{prefix}-slots",
    }


def _booking(office, hour: int, n: int) -> dict:
    return {
        "services": [{"id": office.service.id, "quantity": 1}],
        "location": office.location.id,
        "start": at(workday(), hour, 0).isoformat(),
        "name": "Erika Mustermann",
        "email": f"erika{n}@example.org",
    }


def _fallbacks(app) -> float:
    value = app.extensions["stadtportal_metrics"].registry.get_sample_value("stadtportal_rate_limit_fallbacks_total")
    return float(value or 0)


def _on_fallback(app) -> float:
    value = app.extensions["stadtportal_metrics"].registry.get_sample_value("stadtportal_rate_limit_on_fallback")
    return float(value or 0)


def test_bookings_survive_redis_stopping_and_everything_recovers(app, client, redis_process, prefix, caplog):
    office = make_office(confirm_within_minutes=30)
    day = workday().isoformat()
    search = f"/api/v1/appointments/slots?service={office.service.id}&location={office.location.id}&from={day}&to={day}"
    statuses: list[int] = []

    def get(url: str):
        response = client.get(url)
        if url != "/readyz":  # its 503 is the point
            statuses.append(response.status_code)
        return response

    def post(url: str, body: dict):
        response = client.post(url, json=body)
        statuses.append(response.status_code)
        return response

    # Redis up: limits and the slot cache live there.
    assert get(search).status_code == 200
    assert post("/api/v1/appointments/bookings", _booking(office, 9, 1)).status_code == 201
    assert redis_process.keys(f"{prefix}-limits"), "the rate limit was not counted in Redis"
    assert redis_process.keys(f"{prefix}-slots"), "the slot search was not cached in Redis"
    assert get("/readyz").status_code == 200
    assert _fallbacks(app) == 0
    assert _on_fallback(app) == 0

    redis_process.kill()

    # Redis gone: searches and bookings still answer; limits are counted in this worker's memory, so the
    # search limit still holds (counted afresh); /readyz takes the instance out of the load balancer.
    started = time.monotonic()
    second = post("/api/v1/appointments/bookings", _booking(office, 10, 2))
    assert second.status_code == 201, second.get_data(as_text=True)
    assert get(search).status_code == 200
    # The catalogue is limited by the global search limit (a location may set its own for slot searches).
    for _ in range(SEARCH_LIMIT):
        assert get("/api/v1/appointments/services").status_code == 200
    refused = get("/api/v1/appointments/services")
    assert refused.status_code == 429, refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json"
    ready = get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable", "rate_limit_store": "unreachable"}
    assert time.monotonic() - started < 5, "a dead Redis must not make requests wait"
    assert _fallbacks(app) == 1, "the fallback to memory was not counted once"
    assert _on_fallback(app) == 1
    assert any("counting in this worker's memory" in record.getMessage() for record in caplog.records)

    redis_process.start()  # empty, same address: a restarted Redis

    # Recovery: Flask-Limiter probes the store with a backoff (1, 2, 4 s ...); poll until limits are in Redis again.
    deadline = time.monotonic() + 12
    while not redis_process.keys(f"{prefix}-limits"):
        assert time.monotonic() < deadline, "rate limits did not go back to Redis"
        get("/api/v1/appointments/services")
        time.sleep(0.5)
    assert get("/readyz").status_code == 200
    assert post("/api/v1/appointments/bookings", _booking(office, 11, 3)).status_code == 201
    assert get(search).status_code == 200
    assert redis_process.keys(f"{prefix}-slots"), "the slot cache did not use Redis again"
    assert _fallbacks(app) == 1
    assert _on_fallback(app) == 0

    assert all(status < 500 for status in statuses), " ".join(map(str, statuses))
    db.session.rollback()
    bookings = db.session.execute(sa.select(Booking.id)).scalars().all()
    assert len(bookings) == 3
    audited = {
        target
        for model in (AuditEvent, AuditPending)
        for target in db.session.execute(
            sa.select(model.target_id).where(model.target_type == Booking.__tablename__)
        ).scalars()
    }
    assert {str(booking) for booking in bookings} <= audited, "a booking without its audit event"
