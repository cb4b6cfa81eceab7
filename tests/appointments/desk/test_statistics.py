"""Statistics on a small known data set: the week of Buß- und Bettag 2026 (Wednesday 18 November, a Saxon
public holiday), with Friday closed. Open Mon–Fri 8–12 and 13–16 (420 minutes) at 2 counters."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from appointments.models import Closure
from appointments.services import statistics
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import BERLIN
from tests.appointments.desk.builders import make_booking

MONDAY = date(2026, 11, 16)
SUNDAY = date(2026, 11, 22)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def week(desk):
    loc, svc = desk.location, desk.service
    make_booking(loc, svc, starts_at=at(16, 9), status="served", checked_in_at=at(16, 8, 55), called_at=at(16, 9, 5))
    make_booking(
        loc,
        svc,
        starts_at=at(16, 9),
        minutes=30,
        seat=1,
        status="served",
        checked_in_at=at(16, 8, 50),
        called_at=at(16, 9, 10),
    )
    make_booking(loc, svc, starts_at=at(17, 10), status="no_show", no_show_at=at(17, 10, 30))
    make_booking(
        loc, svc, starts_at=at(17, 10, 30), status="served", checked_in_at=at(17, 10, 25), called_at=at(17, 10, 55)
    )
    make_booking(loc, svc, starts_at=at(19, 11), status="cancelled")
    make_booking(
        loc,
        svc,
        starts_at=at(19, 11),
        seat=1,
        status="served",
        kind="walk_in",
        reference=None,
        checked_in_at=at(19, 11),
        called_at=at(19, 12),
    )
    db.session.add(Closure(location_id=loc.id, first_day=date(2026, 11, 20), last_day=date(2026, 11, 20), reason="x"))
    db.session.commit()
    return desk


def test_figures_of_the_known_week(app, week):
    stats = statistics.location_statistics(Actor.for_user(week.clerk), week.location.id, MONDAY, SUNDAY)
    total = stats.total
    assert (total.bookings, total.walk_ins, total.cancelled, total.no_shows) == (4, 1, 1, 1)
    assert total.no_show_rate == pytest.approx(0.25)
    assert sorted(total.waits) == [10, 20, 30, 60]
    assert total.mean_wait == pytest.approx(30)
    assert total.median_wait == pytest.approx(25)
    # Monday, Tuesday and Thursday are open: 3 × 420 minutes × 2 counters. Booked: 15 + 30 + 15 + 15.
    assert total.available_minutes == 2520
    assert total.booked_minutes == 75
    assert total.utilisation == pytest.approx(75 / 2520)
    by_day = {d.label: d for d in stats.days}
    assert by_day["18.11."].available_minutes == 0  # Buß- und Bettag
    assert by_day["20.11."].available_minutes == 0  # closed
    assert by_day["16.11."].utilisation == pytest.approx(45 / 840)
    assert [bar.value for bar in stats.bars] == [2, 2, 0, 0, 0, 0, 0]


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_the_number_of_queries_does_not_grow_with_the_range(app, week):
    actor = Actor.for_user(week.clerk)
    db.session.expire_all()
    statistics.location_statistics(actor, week.location.id, MONDAY, MONDAY)  # load the actor's roles
    with counted_queries() as one_day:
        statistics.location_statistics(actor, week.location.id, MONDAY, MONDAY)
    with counted_queries() as two_months:
        statistics.location_statistics(actor, week.location.id, MONDAY - timedelta(days=60), SUNDAY)
    assert len(one_day) == len(two_months) <= 5


def test_the_statistics_page_shows_the_table_and_an_accessible_chart(client, week, sign_in):
    sign_in(week.clerk)
    page = client.get(f"/schalter/{week.location.id}/statistik?from=2026-11-16&to=2026-11-22").get_data(as_text=True)
    assert 'id="stat-bookings">4<' in page
    assert 'id="stat-no-show-rate">25,0 % (1)<' in page
    assert 'id="stat-mean-wait">30,0 min<' in page
    assert 'id="stat-median-wait">25,0 min<' in page
    assert 'id="stat-utilisation">3,0 %<' in page
    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in page
    assert page.count("<rect ") == 7
    assert 'id="stat-table"' in page


def test_a_reversed_range_is_refused_next_to_the_field(client, week, sign_in):
    sign_in(week.clerk)
    page = client.get(f"/schalter/{week.location.id}/statistik?from=2026-11-22&to=2026-11-16").get_data(as_text=True)
    assert 'id="to-error"' in page
    assert "vor seinem Anfang" in page
