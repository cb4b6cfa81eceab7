"""The availability service on the database: durations, bookability, nearest free times, query count."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appointments.errors import BookingError
from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod, SeatClaim
from appointments.services import availability, availability_rows
from portal.extensions import db
from portal.timeutil import utcnow
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.appointments.engine.builders import berlin, claim, next_open_tuesday
from tests.builders import make_department


@pytest.fixture
def office(app):
    department = make_department()
    location = make_bookable_location(department=department, counters=2, slot_minutes=15, buffer_minutes=5)
    passport = make_catalogue_service(department, "Reisepass beantragen")
    certificate = make_catalogue_service(department, "Meldebescheinigung")
    offer(location, passport, minutes=30)
    offer(location, certificate, minutes=10, max_quantity=2)
    return location, passport, certificate


def test_duration_sums_services_times_quantities(office):
    location, passport, certificate = office
    assert availability.duration_for(location.id, [(passport.id, 1), (certificate.id, 2)]) == 50
    # The same service twice counts as its quantities together.
    assert availability.duration_for(location.id, [(certificate.id, 1), (certificate.id, 1)]) == 20


@pytest.mark.parametrize(
    ("items", "code"),
    [([], "empty"), ([(9999, 1)], "not_offered"), ("over", "quantity"), ("inactive", "not_offered")],
)
def test_duration_refuses_bad_service_choices_on_the_services_field(office, items, code):
    location, passport, certificate = office
    if items == "over":
        items = [(certificate.id, 3)]
    elif items == "inactive":
        db.session.execute(sa.update(OfferedService).values(active=False))
        db.session.commit()
        items = [(passport.id, 1)]
    with pytest.raises(BookingError) as error:
        availability.duration_for(location.id, items)
    assert (error.value.field, error.value.code) == ("services", code)


def test_check_bookable_returns_the_duration_for_a_good_start(office):
    location, passport, _ = office
    day = next_open_tuesday()
    assert availability.check_bookable(location.id, [(passport.id, 1)], berlin(day, 9, 15)) == 30


@pytest.mark.parametrize(
    ("hour", "minute", "code"),
    [(9, 5, "off_grid"), (11, 30, "outside_hours"), (12, 15, "outside_hours"), (7, 0, "outside_hours")],
)
def test_check_bookable_refuses_with_a_code_on_the_start_field(office, hour, minute, code):
    location, passport, _ = office
    with pytest.raises(BookingError) as error:
        availability.check_bookable(location.id, [(passport.id, 1)], berlin(next_open_tuesday(), hour, minute))
    assert (error.value.field, error.value.code) == ("start", code)
    assert error.value.message


def test_check_bookable_refuses_closed_days_past_and_beyond_the_horizon(office):
    location, passport, _ = office
    day = next_open_tuesday()
    db.session.add(Closure(location_id=location.id, first_day=day, last_day=day))
    db.session.commit()
    items = [(passport.id, 1)]
    for start, code in [
        (berlin(day, 9), "closed"),
        (berlin(day - timedelta(days=14), 9), "past"),
        (berlin(day + timedelta(days=70), 9), "horizon"),
    ]:
        with pytest.raises(BookingError) as error:
            availability.check_bookable(location.id, items, start)
        assert error.value.code == code


def test_an_unknown_or_inactive_location_is_refused_on_the_location_field(office):
    location, passport, _ = office
    db.session.get(LocationSettings, location.id).active = False
    db.session.commit()
    with pytest.raises(BookingError) as error:
        availability.free_slots(location.id, [(passport.id, 1)], next_open_tuesday(), next_open_tuesday())
    assert error.value.field == "location"


def test_claim_units_cover_duration_and_buffer(office):
    location, _, _ = office
    start = berlin(next_open_tuesday(), 9)
    assert availability.claim_units(location.id, start, 30) == [start + timedelta(minutes=m) for m in (0, 15, 30)]


def test_free_slots_honour_the_buffer_and_claims(office):
    location, passport, _ = office
    day = next_open_tuesday()
    claim(location, [berlin(day, 9, 30)], seats=(0, 1))
    starts = [s.start for s in availability.free_slots(location.id, [(passport.id, 1)], day, day)]
    # 30 minutes + 5 buffer = three units: 9:00 would cover 9:30.
    assert berlin(day, 8, 45) in starts
    assert berlin(day, 9, 0) not in starts
    assert berlin(day, 9, 30) not in starts
    assert berlin(day, 9, 45) in starts
    assert berlin(day, 11, 15) in starts and berlin(day, 11, 30) not in starts


def test_nearest_free_lists_the_closest_starts_first(office):
    location, passport, _ = office
    day = next_open_tuesday()
    taken = berlin(day, 10)
    claim(location, [taken], seats=(0, 1))
    nearest = availability.nearest_free(location.id, [(passport.id, 1)], taken, limit=4)
    assert len(nearest) == 4
    assert taken not in nearest
    gaps = [abs(start - taken) for start in nearest]
    assert gaps == sorted(gaps)
    assert gaps[0] <= timedelta(minutes=45)


def test_opening_days_skip_weekends_holidays_and_closures(office):
    location, _, _ = office
    day = next_open_tuesday()
    db.session.add(Closure(location_id=location.id, first_day=day, last_day=day))
    db.session.commit()
    days = availability.opening_days(location.id, day - timedelta(days=1), day + timedelta(days=5))
    assert day not in days
    assert day - timedelta(days=1) in days
    assert all(d.weekday() < 5 for d in days)


@contextmanager
def counted_statements():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def _fill(location, count: int, first_day) -> None:
    units = []
    day = first_day
    while len(units) < count:
        if day.weekday() < 5:
            units.extend(berlin(day, 8) + timedelta(minutes=15 * n) for n in range(16))
        day += timedelta(days=1)
    db.session.add_all(SeatClaim(location_id=location.id, unit_start=u, seat=0) for u in units[:count])
    db.session.commit()


def test_free_slots_issue_a_constant_number_of_statements_whatever_the_bookings(office):
    location, passport, _ = office
    location_id = location.id
    first = next_open_tuesday()
    last = first + timedelta(days=27)
    items = [(passport.id, 1)]
    _fill(location, 10, first)
    db.session.expire_all()
    with counted_statements() as few:
        small = availability.free_slots(location_id, items, first, last)
    db.session.execute(sa.delete(SeatClaim))
    db.session.commit()
    _fill(location, 1000, first)
    db.session.expire_all()
    with counted_statements() as many:
        large = availability.free_slots(location_id, items, first, last)
    # SQLite: settings, services, opening periods with closures, claims. PostgreSQL: the settings with the
    # version for the cache, then everything in one statement.
    assert len(few) == len(many) == (2 if db.engine.dialect.name == "postgresql" else 4)
    [claims_query] = [s for s in many if "appointment_seat_claim" in s]
    assert "appointment_booking" not in claims_query
    # The claims did change the answer: fewer seats left.
    assert sum(s.seats_left for s in large) < sum(s.seats_left for s in small)


def test_opening_hours_rows_are_read_once_per_search(office):
    location, passport, _ = office
    # Many periods (e.g. a year of changing validity) still cost one query.
    db.session.add_all(
        OpeningPeriod(location_id=location.id, weekday=5, opens=berlin(next_open_tuesday(), 9).time(), closes=t)
        for t in [berlin(next_open_tuesday(), 10).time()] * 50
    )
    db.session.commit()
    day = next_open_tuesday()
    with counted_statements() as statements:
        availability.free_slots(location.id, [(passport.id, 1)], day, day + timedelta(days=27))
    assert len([s for s in statements if "appointment_opening_period" in s]) == 1


@pytest.mark.parametrize("mask_seats", [62, 0], ids=["folded-in-sql", "rows-folded-in-python"])
def test_expired_reservations_and_ended_cool_downs_free_their_seats(office, monkeypatch, mask_seats):
    monkeypatch.setattr(availability_rows, "MASK_SEATS", mask_seats)
    location, passport, _ = office
    day = next_open_tuesday()
    past, future = utcnow() - timedelta(minutes=1), utcnow() + timedelta(hours=1)
    claim(location, [berlin(day, 9)], seats=(0,), expires_at=past)
    claim(location, [berlin(day, 9)], seats=(1,), hold_until=past)
    claim(location, [berlin(day, 10)], seats=(0,), expires_at=future)
    claim(location, [berlin(day, 10)], seats=(1,), hold_until=future)
    claim(location, [berlin(day, 11)], seats=(1,))
    found = {s.start: s.seats_left for s in availability.free_slots(location.id, [(passport.id, 1)], day, day)}
    assert found[berlin(day, 9)] == 2
    assert berlin(day, 10) not in found
    assert found[berlin(day, 10, 30)] == 1  # 10:30 + 35 minutes reaches the 11:00 unit
    assert found[berlin(day, 11)] == 1
