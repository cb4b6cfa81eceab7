"""Issue 11, finding 6: a database that goes away is 503 with Retry-After (API) or a friendly page, and a change
committed before it went away is still answered as the success it was.

The outage is real: the engine's pool is swapped for the pool of an engine whose server cannot be reached (a
closed port on PostgreSQL, a file in a directory that does not exist on SQLite), so the driver itself fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from appointments.models import Booking
from portal.extensions import db
from tests.appointments.booking.builders import at, make_office, workday


def _unreachable_url(url: sa.URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "sqlite:////nonexistent-directory/stadtportal.sqlite"
    return url.set(port=1).render_as_string(hide_password=False)  # nothing listens on port 1


@contextmanager
def database_down(*, after_commit: bool = False) -> Iterator[None]:
    """The database becomes unreachable now, or right after the next commit."""
    engine = db.engine
    dead = sa.create_engine(_unreachable_url(engine.url))
    working = engine.pool

    def cut(*_args: object) -> None:
        engine.pool = dead.pool

    session = db.session()
    session.close()  # the test's own connection must not serve the request
    if after_commit:
        sa.event.listen(session, "after_commit", cut, once=True)
    else:
        engine.pool.dispose()
        cut()
    try:
        yield
    finally:
        if after_commit and sa.event.contains(session, "after_commit", cut):
            sa.event.remove(session, "after_commit", cut)
        engine.pool = working
        dead.dispose()


def _booking(office):
    return {
        "services": [{"id": office.service.id, "quantity": 1}],
        "location": office.location.id,
        "start": at(workday(), 9, 0).isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }


def test_a_booking_committed_before_the_database_went_away_is_answered_201(app, client):
    office = make_office(confirm_within_minutes=30)
    body = _booking(office)

    with database_down(after_commit=True):
        response = client.post("/api/v1/appointments/bookings", json=body)

    assert response.status_code == 201, response.get_data(as_text=True)
    reference = response.get_json()["reference"]
    db.session.rollback()
    assert db.session.execute(sa.select(Booking.reference)).scalars().all() == [reference]


def test_the_api_answers_503_with_retry_after_while_the_database_is_down(app, client):
    office = make_office()
    day = workday().isoformat()
    query = f"/api/v1/appointments/slots?service={office.service.id}&location={office.location.id}&from={day}&to={day}"

    with database_down():
        response = client.get(query)

    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503
    assert int(response.headers["Retry-After"]) > 0


def test_a_page_says_try_again_shortly_while_the_database_is_down(app, client):
    make_office()

    with database_down():
        response = client.get("/termine/")  # lists the locations from the database

    assert response.status_code == 503
    assert "noch einmal" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
