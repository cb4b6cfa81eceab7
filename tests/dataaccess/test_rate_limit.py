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
    assert len(stored) == 61 and sum(stored.values()) == 61
