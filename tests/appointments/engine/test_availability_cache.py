"""The per-worker cache of slot searches: every change of availability raises the location's version, so a
search never shows seats that are gone; time alone (reservations running out, the notice, the horizon) ends a
remembered answer too; repeated searches cost one statement; the API answers If-None-Match with 304."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from appointments.errors import BookingError
from appointments.models import LocationSettings, SeatClaim
from appointments.services import availability, closure_bookings, config, waitlist
from appointments.services.booking import cancel_booking, release_expired, reschedule_booking
from portal.actors import ANONYMOUS, Actor
from portal.departments.models import CatalogueService
from portal.extensions import db
from portal.timeutil import BERLIN, utcnow
from tests.appointments.booking.builders import Office, at, book, make_office, workday
from tests.appointments.waitlist.builders import join, offer_link
from tests.builders import make_user

API = "/api/v1/appointments"


def version(office: Office) -> int:
    db.session.rollback()  # a fresh snapshot on SQLite too
    return db.session.scalar(
        sa.select(LocationSettings.availability_version).where(LocationSettings.location_id == office.location.id)
    )


def seats_at(office: Office, day: date, hour: int, minute: int = 0, **kwargs) -> int:
    """Seats left at a Berlin time in a search of that day (0 when the start is not offered)."""
    wanted = at(day, hour, minute)
    for slot in availability.free_slots(office.location.id, [(office.service.id, 1)], day, day, **kwargs):
        if slot.start == wanted:
            return slot.seats_left
    return 0


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def admin_of(office: Office) -> Actor:
    user = make_user(
        "amtsadmin@stadt.example", department=office.location.department, department_role="department_admin", totp=True
    )
    return Actor.for_user(user)


# -- the cache stays correct: a booking shows at once -----------------------------------------------------------


def test_a_booking_made_through_hold_booking_shows_one_seat_fewer_in_the_next_search(app, client):
    office = make_office(counters=3)
    day = workday()
    query = {"service": office.service.id, "location": office.location.id, "from": day, "to": day}

    def api_seats() -> int:
        slots = client.get(f"{API}/slots", query_string=query).get_json()["slots"]
        return next(slot["seats_left"] for slot in slots if slot["start"] == at(day, 9).isoformat())

    assert api_seats() == 3
    assert api_seats() == 3  # now answered from the cache
    assert seats_at(office, day, 9) == 3

    book(office, at(day, 9))

    assert api_seats() == 2
    assert seats_at(office, day, 9) == 2


def test_a_repeated_search_costs_one_statement_and_a_changed_location_is_searched_again(app):
    office = make_office(counters=2)
    day = workday()
    location_id, items = office.location.id, [(office.service.id, 1)]
    with counted_statements() as first:
        availability.free_slots(location_id, items, day, day + timedelta(days=27))
    with counted_statements() as again:
        availability.free_slots(location_id, items, day, day + timedelta(days=27))
    book(office, at(day, 9))
    with counted_statements() as after_booking:
        availability.free_slots(location_id, items, day, day + timedelta(days=27))
    computed = 2 if db.engine.dialect.name == "postgresql" else 4  # version, then one statement or four
    assert (len(first), len(again), len(after_booking)) == (computed, 1, computed)


def test_the_cache_keeps_at_most_its_size_in_answers(app, monkeypatch):
    monkeypatch.setitem(app.config, "APPOINTMENTS_SEARCH_CACHE_SIZE", 3)
    office = make_office()
    day = workday()
    for offset in range(6):
        availability.free_slots(office.location.id, [(office.service.id, 1)], day, day + timedelta(days=offset))
    assert len(app.extensions["appointments_search_cache"]) == 3


def test_a_search_inside_a_transaction_that_changed_seats_sees_its_own_change(app):
    office = make_office(counters=1)
    day = workday()
    assert seats_at(office, day, 9) == 1  # remembered
    db.session.add(SeatClaim(location_id=office.location.id, unit_start=at(day, 9), seat=0))
    db.session.flush()
    assert seats_at(office, day, 9) == 0  # not the remembered answer: this transaction changed the location
    db.session.rollback()
    assert seats_at(office, day, 9) == 1


# -- every path that changes availability raises the version -----------------------------------------------------


def test_holding_a_booking_raises_the_version(app):
    office = make_office()
    before = version(office)
    book(office, at(workday(), 9))
    assert version(office) == before + 1


def test_cancelling_raises_the_version_and_the_seat_shows_again(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9))
    assert seats_at(office, day, 9) == 0
    before = version(office)
    cancel_booking(ANONYMOUS, held.booking)
    assert version(office) > before
    assert seats_at(office, day, 9) == 1


def test_a_cancellation_cool_down_raises_the_version_and_its_end_frees_the_seat_without_one(app):
    office = make_office(counters=1, cancel_cooldown_minutes=30)
    day = workday()
    held = book(office, at(day, 9))
    now = utcnow()
    assert seats_at(office, day, 9, now=now) == 0
    before = version(office)
    cancel_booking(ANONYMOUS, held.booking, now=now)
    assert version(office) > before
    ends = now + timedelta(minutes=30)
    assert seats_at(office, day, 9, now=ends - timedelta(seconds=1)) == 0  # held back
    assert seats_at(office, day, 9, now=ends) == 1  # the cool-down is over: no write, a second later


def test_rescheduling_raises_the_version_and_moves_the_taken_seat(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9))
    assert (seats_at(office, day, 9), seats_at(office, day, 10)) == (0, 1)
    before = version(office)
    reschedule_booking(ANONYMOUS, held.booking, at(day, 10))
    assert version(office) > before
    assert (seats_at(office, day, 9), seats_at(office, day, 10)) == (1, 0)


def test_a_reservation_running_out_frees_its_seat_in_a_remembered_search(app):
    office = make_office(counters=1, confirm_within_minutes=30)
    day = workday()
    now = utcnow()
    book(office, at(day, 9), now=now)
    deadline = now + timedelta(minutes=30)
    assert seats_at(office, day, 9, now=deadline - timedelta(seconds=1)) == 0
    assert seats_at(office, day, 9, now=deadline) == 1  # a second later, before anyone released it


def test_releasing_an_unconfirmed_booking_raises_the_version(app):
    office = make_office(counters=1, confirm_within_minutes=30)
    book(office, at(workday(), 9))
    before = version(office)
    assert release_expired(utcnow() + timedelta(minutes=31)) == 1
    assert version(office) > before


def test_closing_a_day_at_the_desk_raises_the_version_and_frees_its_seats(app):
    office = make_office(counters=1)
    day = workday()
    book(office, at(day, 9))
    assert seats_at(office, day, 10) == 1
    admin = admin_of(office)
    before = version(office)
    with app.test_request_context():
        assert closure_bookings.cancel_day(admin, office.location.id, day, "Wasserschaden") == 1
    assert version(office) > before
    assert availability.free_slots(office.location.id, [(office.service.id, 1)], day, day) == []  # now closed


def test_declining_a_waitlist_offer_raises_the_version_and_frees_the_seat(app):
    office = make_office(counters=1)
    day = workday()
    held = book(office, at(day, 9))
    join(office, "wartend@example.org", day)
    cancel_booking(ANONYMOUS, held.booking)
    assert seats_at(office, day, 9) == 0  # offered to the person waiting
    reference, token = offer_link("wartend@example.org")
    before = version(office)
    waitlist.decline_offer(reference, token)
    assert version(office) > before
    assert seats_at(office, day, 9) == 1


def _settings_data(**changes) -> config.SettingsData:
    values = {**config.default_settings(), "active": True, "counters": 1, "min_notice_minutes": 0, **changes}
    return config.SettingsData(**{f.name: values[f.name] for f in fields(config.SettingsData)})


def test_changing_the_settings_raises_the_version_and_the_new_counters_show(app):
    office = make_office(counters=1)
    day = workday()
    assert seats_at(office, day, 9) == 1
    before = version(office)
    config.save_settings(admin_of(office), office.location.id, _settings_data(counters=4))
    assert version(office) > before
    assert seats_at(office, day, 9) == 4


def test_changing_an_offered_service_raises_the_version_and_the_new_duration_shows(app):
    office = make_office(minutes=15)
    day = workday()
    items = [(office.service.id, 1)]
    assert availability.search(office.location.id, items, day, day).duration_minutes == 15
    admin = admin_of(office)
    before = version(office)
    offered = config.location_config(admin, office.location.id).services[0][0]
    config.save_offered_service(
        admin,
        office.location.id,
        config.OfferedServiceData(office.service.id, duration_minutes=30, max_quantity=5),
        offered.id,
    )
    assert version(office) > before
    assert availability.search(office.location.id, items, day, day).duration_minutes == 30


def test_changing_opening_hours_raises_the_version_and_the_new_hours_show(app):
    office = make_office()
    day = workday()
    admin = admin_of(office)
    assert seats_at(office, day, 17) == 0
    before = version(office)
    config.save_opening_period(
        admin, office.location.id, config.OpeningPeriodData((day.weekday(),), time(16, 0), time(18, 0))
    )
    assert version(office) > before
    assert seats_at(office, day, 17) == 1
    added = [p for p in config.location_config(admin, office.location.id).periods if p.opens == time(16, 0)]
    before = version(office)
    config.delete_opening_period(admin, office.location.id, added[0].id)
    assert version(office) > before
    assert seats_at(office, day, 17) == 0


def test_adding_and_removing_a_closure_raises_the_version_and_the_day_closes_and_reopens(app):
    office = make_office()
    day = workday()
    admin = admin_of(office)
    assert seats_at(office, day, 9) == 1
    before = version(office)
    closure = config.add_closure(admin, office.location.id, config.ClosureData(day, day, "Betriebsausflug"))
    assert version(office) > before
    assert seats_at(office, day, 9) == 0
    before = version(office)
    config.delete_closure(admin, office.location.id, closure.id)
    assert version(office) > before
    assert seats_at(office, day, 9) == 1


def test_switching_a_catalogue_service_off_raises_the_version_of_the_locations_offering_it(app):
    office = make_office()
    day = workday()
    items = [(office.service.id, 1)]
    assert availability.free_slots(office.location.id, items, day, day)
    before = version(office)
    db.session.execute(sa.update(CatalogueService).where(CatalogueService.id == office.service.id).values(active=False))
    db.session.commit()
    assert version(office) > before
    with pytest.raises(BookingError):
        availability.free_slots(office.location.id, items, day, day)


def test_a_rolled_back_change_leaves_the_version_alone(app):
    office = make_office()
    before = version(office)
    db.session.add(SeatClaim(location_id=office.location.id, unit_start=at(workday(), 9), seat=0))
    db.session.flush()
    db.session.rollback()
    assert version(office) == before


# -- time alone: the remembered answer equals a fresh computation at every moment --------------------------------


def _fresh(office: Office, day: date, last: date, now) -> list:
    availability._cache().clear()
    return availability.free_slots(office.location.id, [(office.service.id, 1)], day, last, now=now)


def test_the_notice_drops_starts_from_a_remembered_answer_as_time_passes(app):
    office = make_office(counters=1, slot_minutes=15, min_notice_minutes=60)
    day = workday()
    items = [(office.service.id, 1)]
    start = at(day, 10).astimezone(BERLIN)
    # From just before the first start falls into the notice to just after the second.
    moments = [start - timedelta(minutes=60, seconds=s) for s in (30, 1, 0, -1, -899, -900, -901)]
    for now in moments:
        remembered = availability.free_slots(office.location.id, items, day, day, now=now)
        assert remembered == _fresh(office, day, day, now), now
        availability.free_slots(office.location.id, items, day, day, now=now)  # fills the cache again


def test_the_horizon_adds_starts_to_a_remembered_answer_as_time_passes(app):
    office = make_office(counters=1, horizon_days=7)
    items = [(office.service.id, 1)]
    first = workday(days_ahead=2)
    last = first + timedelta(days=10)
    base = at(first, 9).astimezone(BERLIN) - timedelta(days=7)
    for now in [base - timedelta(minutes=16), base - timedelta(seconds=1), base, base + timedelta(minutes=15)]:
        remembered = availability.free_slots(office.location.id, items, first, last, now=now)
        assert remembered == _fresh(office, first, last, now), now
        availability.free_slots(office.location.id, items, first, last, now=now)


# -- the API: ETag and 304 ---------------------------------------------------------------------------------------


def test_the_api_answers_a_current_etag_with_304_and_a_changed_location_with_the_new_slots(app, client):
    office = make_office(counters=1)
    day = workday()
    url = f"{API}/slots?service={office.service.id}&location={office.location.id}&from={day}&to={day}"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    unchanged = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""

    book(office, at(day, 9))

    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    starts = [slot["start"] for slot in changed.get_json()["slots"]]
    assert at(day, 9).isoformat() not in starts and at(day, 9).isoformat() in [
        slot["start"] for slot in first.get_json()["slots"]
    ]
