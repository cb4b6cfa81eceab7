"""The search's rows in one statement (PostgreSQL) are exactly the rows of the four statements it replaces."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from appointments.errors import BookingError
from appointments.models import Closure, OpeningPeriod
from appointments.services import availability, availability_rows, availability_snapshot
from portal.departments.models import CatalogueService
from portal.extensions import db
from portal.timeutil import utcnow
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.appointments.engine.builders import berlin, claim, next_open_tuesday
from tests.builders import make_department


@pytest.fixture
def office(app):
    department = make_department()
    location = make_bookable_location(department=department, counters=3, slot_minutes=15, buffer_minutes=5)
    passport = make_catalogue_service(department, "Reisepass beantragen")
    certificate = make_catalogue_service(department, "Meldebescheinigung")
    offer(location, passport, minutes=30)
    offer(location, certificate, minutes=10, max_quantity=2)
    return location, passport, certificate


def _both(location_id: int, items, first: date, last: date):
    now = utcnow()
    one = availability_snapshot.snapshot(location_id, items, first, last, now)
    begins, ends = availability_rows.slots.day_bounds(first)[0], availability_rows.slots.day_bounds(last)[1]
    four = availability_snapshot._in_four(location_id, items, first, last, begins, ends, now, None)
    return one, four


def _same(one, four) -> None:
    assert (one.rules, one.version, one.duration) == (four.rules, four.version, four.duration)
    assert sorted(one.periods, key=repr) == sorted(four.periods, key=repr)
    assert sorted(one.closures, key=repr) == sorted(four.closures, key=repr)
    assert one.taken == four.taken
    assert one.claims_end == four.claims_end


def test_one_statement_reads_what_the_four_statements_read(office):
    location, passport, certificate = office
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the one statement is PostgreSQL's; other databases use the four")
    first = next_open_tuesday()
    last = first + timedelta(days=27)
    soon, past = utcnow() + timedelta(minutes=20), utcnow() - timedelta(minutes=1)
    db.session.add_all(
        [
            OpeningPeriod(
                location_id=location.id,
                weekday=5,
                opens=time(9),
                closes=time(12),
                valid_from=first,
                valid_until=first + timedelta(days=10),
            ),
            Closure(location_id=location.id, first_day=first + timedelta(days=2), last_day=first + timedelta(days=3)),
            Closure(location_id=location.id, first_day=first - timedelta(days=40), last_day=first - timedelta(days=30)),
            Closure(location_id=location.id, first_day=last, last_day=last + timedelta(days=5)),
        ]
    )
    db.session.commit()
    claim(location, [berlin(first, 9), berlin(first, 9, 15)], seats=(0, 2))
    claim(location, [berlin(first, 10)], seats=(1,), expires_at=soon)
    claim(location, [berlin(first, 10, 15)], seats=(0,), hold_until=soon + timedelta(minutes=5))
    claim(location, [berlin(first, 11)], seats=(0,), expires_at=past)  # free again: not counted
    claim(location, [berlin(first, 11)], seats=(1,), hold_until=past)
    claim(location, [berlin(last + timedelta(days=1), 9)], seats=(0,))  # outside the range
    one, four = _both(location.id, [(passport.id, 1), (certificate.id, 2)], first, last)
    _same(one, four)
    assert one.duration == 50
    assert one.taken[int(berlin(first, 9).timestamp())] == 0b101
    assert one.claims_end is not None and abs((one.claims_end - soon).total_seconds()) < 1
    assert len(one.closures) == 2 and len(one.periods) == 11  # 5 days × 2, and the Saturday


def test_an_empty_location_reads_no_rows_and_still_has_its_rules(office):
    location, passport, _ = office
    db.session.execute(sa.delete(OpeningPeriod))
    db.session.commit()
    first = next_open_tuesday()
    one, four = _both(location.id, [(passport.id, 1)], first, first)
    _same(one, four)
    assert (one.periods, one.closures, one.taken, one.claims_end) == ([], [], {}, None)


def test_more_seats_than_the_mask_holds_are_folded_per_seat(app):
    department = make_department()
    location = make_bookable_location(department=department, counters=70)
    service = make_catalogue_service(department)
    offer(location, service, minutes=10)
    day = next_open_tuesday()
    claim(location, [berlin(day, 9)], seats=(0, 63, 69))
    one, four = _both(location.id, [(service.id, 1)], day, day)
    _same(one, four)
    assert one.taken[int(berlin(day, 9).timestamp())] == (1 << 0) | (1 << 63) | (1 << 69)
    found = {s.start: s.seats_left for s in availability.free_slots(location.id, [(service.id, 1)], day, day)}
    assert found[berlin(day, 9)] == 67


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("unknown_location", "location", "unknown"),
        ("unknown_location_and_no_service", "location", "unknown"),
        ("no_service", "services", "empty"),
        ("not_offered", "services", "not_offered"),
        ("catalogue_service_off", "services", "not_offered"),
        ("too_many", "services", "quantity"),
        ("zero", "services", "quantity"),
    ],
)
def test_a_search_refuses_bad_input_with_the_same_field_error_on_every_database(office, case, field, code):
    location, passport, certificate = office
    location_id, items = location.id, [(passport.id, 1)]
    if case.startswith("unknown_location"):
        location_id = 99999
    if case.endswith("no_service"):
        items = []
    elif case == "not_offered":
        items = [(99999, 1)]
    elif case == "catalogue_service_off":
        db.session.execute(sa.update(CatalogueService).where(CatalogueService.id == passport.id).values(active=False))
        db.session.commit()
    elif case == "too_many":
        items = [(certificate.id, 3)]
    elif case == "zero":
        items = [(certificate.id, 0)]
    day = next_open_tuesday()
    with pytest.raises(BookingError) as error:
        availability_snapshot.snapshot(location_id, items, day, day, utcnow())
    assert (error.value.field, error.value.code) == (field, code)
