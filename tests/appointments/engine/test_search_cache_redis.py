"""The slot-search cache shared through Redis: one computation per change for all workers, no SQL on a hit,
no stale answer after a booking, and a Redis outage only costs speed (the database path answers).

Needs the Redis at 127.0.0.1:6379 (REDIS_TEST_URL overrides it): skipped when it is not reachable, except in CI.
Each test uses its own key prefix, so runs and xdist workers do not see each other's keys.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from appointments.services import availability, search_cache
from portal.departments.models import CatalogueService
from portal.extensions import db
from tests.appointments.booking.builders import Office, at, book, make_office, workday
from tests.appointments.engine.test_availability_cache import counted_statements

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")
API = "/api/v1/appointments"


def _reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


if not _reachable():
    if os.environ.get("CI"):
        raise RuntimeError(f"Redis is not reachable at {REDIS_URL}; CI must provide it")
    pytest.skip(f"Redis is not reachable at {REDIS_URL}", allow_module_level=True)


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"sp-test:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def app_config(app_config: dict, prefix: str) -> dict:
    return {**app_config, "APPOINTMENTS_SEARCH_CACHE_URL": REDIS_URL, "APPOINTMENTS_SEARCH_CACHE_PREFIX": prefix}


@pytest.fixture
def other_worker(app, app_config):
    """A second app on the same database and Redis: another gunicorn worker, or another host."""
    from portal import create_app

    other = create_app(app_config, env="test")
    yield other
    with other.app_context():
        db.engine.dispose()


@contextmanager
def in_worker(worker) -> Iterator[None]:
    with worker.app_context():
        try:
            yield
        finally:
            db.session.remove()


def search(office: Office, days: int = 27) -> list:
    day = workday()
    return availability.free_slots(office.location.id, [(office.service.id, 1)], day, day + timedelta(days=days))


def seats_at_nine(found: list) -> int:
    wanted = at(workday(), 9)
    return next((slot.seats_left for slot in found if slot.start == wanted), 0)


def test_a_search_computed_by_one_worker_is_answered_by_another_without_sql(app, other_worker):
    office = make_office(counters=2)
    computed = search(office)
    with in_worker(other_worker), counted_statements() as statements:
        shared = search(office)
    assert shared == computed and computed
    assert statements == []


def test_a_repeated_search_in_the_same_worker_issues_no_sql(app):
    office = make_office(counters=2)
    search(office)
    with counted_statements() as statements:
        search(office)
    assert statements == []


def test_a_booking_in_one_worker_shows_in_the_next_search_of_another(app, other_worker):
    office = make_office(counters=2)
    with in_worker(other_worker):
        assert seats_at_nine(search(office)) == 2  # remembered there and in Redis

    book(office, at(workday(), 9))  # this worker commits; its token is replaced right after the commit

    with in_worker(other_worker):
        assert seats_at_nine(search(office)) == 1


def test_a_rolled_back_change_keeps_the_token_and_the_answer(app):
    office = make_office(counters=2)
    shared = search_cache.shared_cache()
    assert shared is not None
    location_id = office.location.id
    before = shared.generation(location_id)
    found = search(office)
    items = [(office.service.id, 1)]
    db.session.execute(sa.update(CatalogueService).values(active=True))  # touches every location
    db.session.rollback()
    assert shared.generation(location_id) == before
    with counted_statements() as statements:
        again = availability.free_slots(location_id, items, workday(), workday() + timedelta(days=27))
    assert again == found
    assert statements == []


def test_a_change_to_every_location_starts_a_new_epoch(app):
    office = make_office(counters=2)
    shared = search_cache.shared_cache()
    assert shared is not None
    before = shared.generation(office.location.id)
    db.session.execute(sa.update(CatalogueService).values(active=True))
    db.session.commit()
    after = shared.generation(office.location.id)
    assert after is not None and after != before


def test_a_worker_waits_for_the_answer_another_is_computing_instead_of_computing_it_too(app, other_worker):
    office = make_office(counters=2)
    computed = search(office)
    shared = search_cache.shared_cache()
    assert shared is not None
    generation = shared.generation(office.location.id)
    assert generation is not None
    key = shared.entry_key(
        generation, (office.location.id, ((office.service.id, 1),), workday(), workday() + timedelta(days=27), False)
    )
    value = shared.client.get(key)
    assert value is not None
    shared.client.delete(key)
    shared.client.set(key + ":lock", b"1", px=2000)  # another worker has begun computing
    finishing = threading.Timer(0.05, lambda: shared.store(key, value, 60_000))
    finishing.start()
    try:
        with in_worker(other_worker), counted_statements() as statements:
            found = search(office)
    finally:
        finishing.join()
    assert found == computed
    assert statements == []  # it took the other's answer


def test_the_api_serves_another_workers_body_and_etag_and_answers_304(app, client, other_worker):
    office = make_office(counters=2)
    day = workday()
    url = f"{API}/slots?service={office.service.id}&location={office.location.id}&from={day}&to={day}"
    first = client.get(url)
    assert first.status_code == 200
    with in_worker(other_worker), counted_statements() as statements:
        other = other_worker.test_client()
        same = other.get(url)
        unchanged = other.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert same.data == first.data and same.headers["ETag"] == first.headers["ETag"]
    assert unchanged.status_code == 304
    # Only the location's rate limit is read (once a minute per worker); nothing of the search itself.
    assert [s for s in statements if "appointment" in s and "search_rate_limit" not in s] == []


# -- Redis down: the database answers ------------------------------------------------------------------------


@pytest.fixture
def unreachable_redis(app, monkeypatch, prefix: str):
    """The app's shared cache pointed at a port nobody listens on."""
    broken = search_cache.SharedCache("redis://127.0.0.1:1/0", prefix)
    monkeypatch.setitem(app.extensions, search_cache.EXTENSION, broken)
    return broken


def test_searches_and_bookings_work_while_redis_is_down_and_show_the_booking(app, client, unreachable_redis):
    office = make_office(counters=2)
    day = workday()
    assert seats_at_nine(search(office)) == 2
    book(office, at(day, 9))
    assert unreachable_redis.unpublished  # remembered, to start a new epoch once Redis answers
    assert seats_at_nine(search(office)) == 1
    response = client.get(f"{API}/slots?service={office.service.id}&location={office.location.id}&from={day}&to={day}")
    assert response.status_code == 200
    nine = at(day, 9).isoformat()
    assert [slot["seats_left"] for slot in response.get_json()["slots"] if slot["start"] == nine] == [1]


def test_after_an_outage_the_first_contact_replaces_every_token(app, other_worker, prefix):
    office = make_office(counters=2)
    with in_worker(other_worker):
        assert seats_at_nine(search(office)) == 2  # remembered in Redis under the current token
    shared = search_cache.shared_cache()
    assert shared is not None
    shared.unpublished = True  # a booking's token could not be replaced while Redis was away
    generation = shared.generation(office.location.id)  # Redis is back
    assert not shared.unpublished
    with in_worker(other_worker):
        assert search_cache.shared_cache().generation(office.location.id) == generation  # type: ignore[union-attr]
