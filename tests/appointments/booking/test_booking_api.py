"""The bookings API: 201/409/422/404 as problem JSON, the manage token, the calendar file, the rate limit."""

from __future__ import annotations

import sqlalchemy as sa
from icalendar import Calendar

from appointments.models import Booking
from portal.extensions import db
from tests.appointments.booking.builders import at, held_rows, make_office, workday


def _body(office, start, **overrides):
    body = {
        "services": [{"id": office.service.id, "quantity": 1}],
        "location": office.location.id,
        "start": start.isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    body.update(overrides)
    return body


def test_an_anonymous_client_books_without_csrf_token_or_cookie(app, client):
    office = make_office(confirm_within_minutes=30)
    start = at(workday(), 9, 0)

    response = client.post("/api/v1/appointments/bookings", json=_body(office, start))

    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "reserved"
    assert data["reference"].startswith("T-")
    assert data["start"] == start.isoformat()
    assert data["end"] == at(workday(), 9, 15).isoformat()
    assert data["location"] == office.location.id
    # The token that would confirm travels only by mail while the booking awaits confirmation.
    assert data["manage_token"] is None and data["confirm_by"]


def test_the_last_seat_taken_answers_409_with_the_nearest_free_times(app, client):
    office = make_office(counters=1)
    start = at(workday(), 9, 0)
    assert client.post("/api/v1/appointments/bookings", json=_body(office, start)).status_code == 201

    response = client.post("/api/v1/appointments/bookings", json=_body(office, start, email="max@example.org"))

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 409 and problem["type"].endswith("slot-taken")
    assert problem["nearest"] and start.isoformat() not in problem["nearest"]
    assert all("+01:00" in moment or "+02:00" in moment for moment in problem["nearest"])


def test_bad_input_answers_422_per_field_and_holds_nothing(app, client):
    office = make_office()
    start = at(workday(), 9, 0)

    bad_email = client.post("/api/v1/appointments/bookings", json=_body(office, start, email="erika@"))
    unknown_service = client.post(
        "/api/v1/appointments/bookings", json=_body(office, start, services=[{"id": 999, "quantity": 1}])
    )
    closed = client.post("/api/v1/appointments/bookings", json=_body(office, at(workday(), 12, 0)))
    malformed = client.post("/api/v1/appointments/bookings", json={"services": [], "start": "tomorrow"})

    for response, field in ((bad_email, "email"), (unknown_service, "services"), (closed, "start")):
        assert response.status_code == 422, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert list(response.get_json()["errors"]) == [field]
    assert malformed.status_code == 422
    assert {"services", "start", "location", "name", "email"} <= set(malformed.get_json()["errors"])
    assert held_rows() == (0, 0, 0)


def test_the_manage_token_reads_and_cancels_the_booking_and_a_wrong_one_is_404(app, client):
    office = make_office(counters=1)
    start = at(workday(), 9, 0)
    created = client.post("/api/v1/appointments/bookings", json=_body(office, start)).get_json()
    reference, token = created["reference"], created["manage_token"]
    url = f"/api/v1/appointments/bookings/{reference}"

    assert client.get(url, query_string={"token": "wrong"}).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/appointments/bookings/T-2000-000001", query_string={"token": token}).status_code == 404
    assert client.delete(url, query_string={"token": "wrong"}).status_code == 404
    shown = client.get(url, headers={"X-Booking-Token": token})
    assert shown.status_code == 200
    assert shown.get_json()["status"] == "confirmed"
    assert shown.get_json()["services"] == [{"id": office.service.id, "quantity": 1, "minutes": 15}]

    cancelled = client.delete(url, query_string={"token": token})

    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert client.delete(url, query_string={"token": token}).status_code == 409
    again = client.post("/api/v1/appointments/bookings", json=_body(office, start, email="max@example.org"))
    assert again.status_code == 201


def test_the_calendar_file_is_served_with_the_token(app, client):
    office = make_office()
    created = client.post("/api/v1/appointments/bookings", json=_body(office, at(workday(), 9, 0))).get_json()
    url = f"/api/v1/appointments/bookings/{created['reference']}.ics"

    assert client.get(url, query_string={"token": "wrong"}).status_code == 404
    response = client.get(url, query_string={"token": created["manage_token"]})

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    booking = db.session.execute(sa.select(Booking)).scalar_one()
    assert str(calendar.events[0]["UID"]) == booking.uid
    assert calendar["METHOD"] == "REQUEST"


def test_booking_requests_are_rate_limited_per_address_by_the_location_setting(app, client):
    office = make_office(counters=5, booking_rate_limit="2/hour", max_open_per_email=10)
    day = workday()
    statuses = [
        client.post("/api/v1/appointments/bookings", json=_body(office, at(day, 9, 10 * n))).status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_the_booking_routes_are_in_the_openapi_document(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"post"} <= set(paths["/api/v1/appointments/bookings"])
    assert {"get", "delete"} <= set(paths["/api/v1/appointments/bookings/{reference}"])
    assert "get" in paths["/api/v1/appointments/bookings/{reference}.ics"]
    assert {"201", "409", "422"} <= set(paths["/api/v1/appointments/bookings"]["post"]["responses"])


def test_a_location_asking_for_the_captcha_takes_a_solved_challenge_from_the_api(app, client):
    from appointments.services import captcha

    office = make_office(captcha_required=True)
    start = at(workday(), 9, 0)
    without = client.post("/api/v1/appointments/bookings", json=_body(office, start))
    assert without.status_code == 422 and list(without.get_json()["errors"]) == ["captcha"]

    challenge = client.get("/api/v1/appointments/captcha")
    assert challenge.status_code == 200 and challenge.headers["Cache-Control"] == "no-store"
    solved = captcha.solve(challenge.get_json())
    response = client.post("/api/v1/appointments/bookings", json=_body(office, start, captcha=solved))

    assert response.status_code == 201, response.get_json()
