"""The agreement's hourly limit: what counts, for how long, what a refused client is told to wait, and that the
count does not grow with use."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from dataaccess.errors import AccessRefused
from dataaccess.models_rate import RateCounter
from dataaccess.services import access, rate_limit
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import utcnow
from tests.dataaccess.builders import World, approved_agreement, log_rows


class Clock:
    """The rate limit's clock (the agreement's validity is checked against the real day)."""

    def __init__(self, monkeypatch) -> None:
        self.now = utcnow().replace(second=5, microsecond=0)
        monkeypatch.setattr(rate_limit, "utcnow", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _read(world: World, reference: str, case: str = "VA-1"):
    actor = Actor.for_user(world.official)
    return access.read(actor, reference, world.purpose.code, case, world.citizen.id, ["status"])


def _refused(world: World, reference: str) -> AccessRefused:
    with pytest.raises(AccessRefused) as caught:
        _read(world, reference)
    return caught.value


def test_an_access_counts_for_the_whole_hour_and_then_no_longer(world, monkeypatch):
    clock = Clock(monkeypatch)
    reference = approved_agreement(world, rate_limit_per_hour=1).reference
    _read(world, reference)

    clock.advance(minutes=59, seconds=50)
    assert _refused(world, reference).code == "rate_limited"
    clock.advance(minutes=1, seconds=10)  # 61 minutes after the access, the next minute has begun
    assert _read(world, reference).records


def test_retry_after_names_when_enough_accesses_stop_counting(world, monkeypatch):
    clock = Clock(monkeypatch)  # hh:mm:05
    reference = approved_agreement(world, rate_limit_per_hour=2).reference
    _read(world, reference)
    clock.advance(minutes=10)
    _read(world, reference)
    clock.advance(minutes=20)

    error = _refused(world, reference)

    # The first access stops counting when the 61st minute after its own begins: 31 minutes minus 5 seconds on.
    assert (error.status, error.retry_after) == (429, 31 * 60 - 5)
    clock.advance(seconds=error.retry_after)
    assert _read(world, reference).records


def test_an_access_whose_log_cannot_be_written_does_not_count(world, monkeypatch):
    reference = approved_agreement(world, rate_limit_per_hour=1).reference

    def broken_log_row(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(access, "_log_row", broken_log_row)
        with pytest.raises(RuntimeError):
            _read(world, reference)

    assert _read(world, reference).records
    assert [row.outcome for row in log_rows()] == ["granted"]


def test_the_count_keeps_only_the_last_hour_however_many_accesses_there_were(world, monkeypatch):
    clock = Clock(monkeypatch)
    reference = approved_agreement(world, rate_limit_per_hour=10_000).reference
    for n in range(90):  # one access a minute for an hour and a half
        _read(world, reference, case=f"VA-{n}")
        clock.advance(minutes=1)

    stored = db.session.scalar(sa.select(RateCounter.per_minute).where(RateCounter.agreement_reference == reference))
    # Each minute's batch is reserved whole and its unused rest given back with the next minute's reservation:
    # the 60 minutes before count their one access each, the current one its whole batch (one used).
    batch = rate_limit.batch_for(10_000)
    assert len(stored) == 61 and sum(stored.values()) == 60 + batch


# --- allowances reserved in batches by several workers ----------------------------------------------------------


class Workers:
    """Worker processes, as far as the limit sees them: each has its own reserved allowances (on the app)."""

    def __init__(self, app, count: int) -> None:
        self.app = app
        self.pools = [rate_limit.Allowances() for _ in range(count)]

    def read_as(self, n: int, world: World, reference: str, case: str):
        self.app.extensions["dataaccess_allowances"] = self.pools[n]
        return _read(world, reference, case)


def test_across_workers_the_limit_grants_exactly_n_and_refuses_the_next(app, world, monkeypatch):
    Clock(monkeypatch)  # one minute throughout
    monkeypatch.setattr(rate_limit, "batch_for", lambda limit: 4)
    reference = approved_agreement(world, rate_limit_per_hour=10).reference
    workers = Workers(app, 2)
    granted = [0, 0]
    refused = [False, False]
    n = 0
    while not all(refused):  # the workers take turns; a refused worker keeps trying until both are refused
        worker = n % 2
        n += 1
        try:
            workers.read_as(worker, world, reference, f"VA-{n}")
            granted[worker] += 1
        except AccessRefused as error:
            assert error.code == "rate_limited"
            refused[worker] = True
        assert n < 40

    assert sum(granted) == 10
    assert [row.outcome for row in log_rows()].count("granted") == 10
    for worker in (0, 1):  # the 11th access is refused by every worker
        with pytest.raises(AccessRefused):
            workers.read_as(worker, world, reference, "VA-11")


def test_a_worker_gives_back_what_it_held_unused_when_its_minute_ended(app, world, monkeypatch):
    clock = Clock(monkeypatch)
    monkeypatch.setattr(rate_limit, "batch_for", lambda limit: 4)
    reference = approved_agreement(world, rate_limit_per_hour=6).reference
    workers = Workers(app, 2)
    workers.read_as(0, world, reference, "VA-1")  # reserves 4, holds 3
    workers.read_as(1, world, reference, "VA-2")  # reserves the 2 left, holds 1
    workers.read_as(1, world, reference, "VA-3")  # spends it
    with pytest.raises(AccessRefused):  # all 6 counted, 3 of them used; worker 0 holds the other 3
        workers.read_as(1, world, reference, "VA-4")
    clock.advance(minutes=1)  # worker 0's 3 are of the last minute: they are given back with its next reservation

    for case in ("VA-5", "VA-6", "VA-7"):
        workers.read_as(0, world, reference, case)

    for worker in (0, 1):
        with pytest.raises(AccessRefused):
            workers.read_as(worker, world, reference, "VA-8")
    stored = db.session.scalar(sa.select(RateCounter.per_minute).where(RateCounter.agreement_reference == reference))
    assert sorted(stored.values()) == [3, 3]
    assert [row.outcome for row in log_rows()].count("granted") == 6


def test_an_allowance_spent_on_an_access_whose_log_cannot_be_written_is_given_back(app, world, monkeypatch):
    Clock(monkeypatch)
    monkeypatch.setattr(rate_limit, "batch_for", lambda limit: 2)
    reference = approved_agreement(world, rate_limit_per_hour=2).reference
    _read(world, reference, "VA-1")  # reserves both, holds one

    def broken_log_row(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(access, "_log_row", broken_log_row)
        with pytest.raises(RuntimeError):
            _read(world, reference, "VA-2")

    assert _read(world, reference, "VA-3").records  # the held allowance came back
    assert _refused(world, reference).code == "rate_limited"
    assert [row.outcome for row in log_rows()] == ["granted", "granted", "refused"]
