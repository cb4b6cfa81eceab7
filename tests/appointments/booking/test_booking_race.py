"""Never two bookings for one seat: concurrent attempts on the last seats, each on its own connection.

On PostgreSQL the threads really run their inserts at once and the unique key settles it; on SQLite the
writers queue on the database lock (busy timeout) and the later ones find the seats taken.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from appointments.errors import SlotTaken
from appointments.models import Booking, SeatClaim
from portal.extensions import db
from tests.appointments.booking.builders import Office, at, book, make_office, workday

ATTEMPTS = 8


def _race(app, office, start, attempts: int = ATTEMPTS) -> list[str]:
    # Plain ids: ORM objects of the test's session must not cross into the threads' sessions.
    ids = Office(location=SimpleNamespace(id=office.location.id), service=SimpleNamespace(id=office.service.id))
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                book(ids, start, email=f"person{n}@example.org")
                outcomes.append("booked")
            except SlotTaken:
                outcomes.append("taken")
            except Exception as error:  # anything else is a failure of the test, reported below
                outcomes.append(f"error: {error!r}")

    db.session.remove()  # the test's own connection must not hold a lock while the threads race
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("counters", [1, 3])
def test_concurrent_attempts_on_the_last_seats_book_each_seat_once(app, counters):
    office = make_office(counters=counters, minutes=30)
    start = at(workday(), 9, 0)

    outcomes = _race(app, office, start)

    assert sorted(outcomes) == ["booked"] * counters + ["taken"] * (ATTEMPTS - counters)
    assert db.session.execute(sa.select(sa.func.count(Booking.id))).scalar_one() == counters
    seats = db.session.execute(sa.select(SeatClaim.unit_start, SeatClaim.seat)).all()
    assert len(seats) == len(set(seats)) == counters * 3  # 30 minutes: three 10-minute units each


@pytest.mark.parametrize("counters", [1, 2])
def test_a_seat_taken_between_reading_and_inserting_is_retried_on_the_next_seat(app, monkeypatch, counters):
    """The other request committed after we read the claims: our insert hits the unique key, the SAVEPOINT
    rolls back only that insert (the booking row stays), and the next seat number is tried."""
    from appointments.services import booking_seats

    office = make_office(counters=counters)
    start = at(workday(), 9, 0)
    first = book(office, start, email="first@example.org")
    read_claims = booking_seats._current_claims
    monkeypatch.setattr(
        booking_seats,
        "_current_claims",
        lambda location_id, units, now: ({unit: set() for unit in units}, read_claims(location_id, units, now)[1]),
    )

    if counters == 1:
        with pytest.raises(SlotTaken):
            book(office, start, email="second@example.org")
        assert db.session.execute(sa.select(sa.func.count(Booking.id))).scalar_one() == 1
    else:
        second = book(office, start, email="second@example.org")
        seats = dict(
            db.session.execute(
                sa.select(SeatClaim.booking_id, SeatClaim.seat).where(SeatClaim.unit_start == start)
            ).all()
        )
        assert seats == {first.booking.id: 0, second.booking.id: 1}
        assert db.session.get(Booking, second.booking.id).reference == second.booking.reference


def test_simultaneous_bookings_of_one_address_respect_its_cap_on_postgresql(app):
    from appointments.errors import BookingError

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers only at the first write; the cap may overshoot by one there")
    office = make_office(counters=8, max_open_per_email=1)
    ids = Office(location=SimpleNamespace(id=office.location.id), service=SimpleNamespace(id=office.service.id))
    day = workday()
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                book(ids, at(day, 9 + n // 6, (n % 6) * 10), email="hoarder@example.org")
                outcomes.append("booked")
            except BookingError as error:
                outcomes.append(error.code)
            except Exception as error:  # anything else is a failure of the test, reported below
                outcomes.append(f"error: {error!r}")

    db.session.remove()
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["booked"] + ["too_many_open"] * (ATTEMPTS - 1)
