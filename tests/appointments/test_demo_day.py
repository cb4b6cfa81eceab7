"""`flask demo load` puts a realistic day on today's desk of both Bürgerbüros, once."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from appointments.models import Booking, BookingKind, SeatClaim
from portal.departments.models import Location
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SERVICES": ["appointments", "payments"]}


def _load(runner) -> None:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


def _today_at(name: str) -> list[Booking]:
    db.session.expire_all()
    location_id = db.session.scalar(sa.select(Location.id).where(Location.name == name))
    return list(db.session.scalars(sa.select(Booking).where(Booking.location_id == location_id)))


@pytest.mark.parametrize("name", ["Bürgerbüro Mitte", "Bürgerbüro Nord"])
def test_both_buergerbueros_have_a_day_of_served_missed_called_waiting_late_and_coming_visitors(runner, name):
    _load(runner)
    day = _today_at(name)
    states = Counter(b.status for b in day)
    assert states["served"] == 2 and states["no_show"] == 1 and states["called"] == 1
    assert states["checked_in"] == 3  # two with an appointment, one without
    assert states["confirmed"] == 4  # three still to come, one due and not here yet
    now = utcnow()
    late = [b for b in day if b.status == "confirmed" and b.starts_at <= now]
    assert [b.name for b in late] == ["Thomas Krüger"]  # the desk offers "Nicht erschienen" for him
    assert late[0].starts_at.astimezone(BERLIN).date() == now.astimezone(BERLIN).date()
    today = utcnow().astimezone(BERLIN).date()
    waiting = [b for b in day if b.status in ("checked_in", "called", "served")]
    assert sorted(b.queue_number for b in waiting) == list(range(1, len(waiting) + 1))
    assert all(b.queue_day == today for b in waiting)
    assert [b.kind for b in day].count(BookingKind.WALK_IN) == 1
    # Appointments hold their seats, so the slot search does not offer them again.
    claimed = db.session.scalars(sa.select(SeatClaim.booking_id).where(SeatClaim.booking_id.in_([b.id for b in day])))
    assert {b.id for b in day if b.kind != BookingKind.WALK_IN} == set(claimed)


def test_loading_again_adds_no_second_day(runner):
    _load(runner)
    first = len(_today_at("Bürgerbüro Mitte"))
    _load(runner)
    assert len(_today_at("Bürgerbüro Mitte")) == first == 11
