"""Issue 11, finding 5: a rate limit counts the validated value, so `3`, `"3"` and `3.0` are one location."""

from __future__ import annotations

from tests.appointments.booking.builders import at, make_office, workday


def test_the_booking_limit_counts_a_location_however_its_number_is_written(app, client):
    office = make_office(counters=5, booking_rate_limit="2/hour", max_open_per_email=10)
    day = workday()
    spellings = [office.location.id, str(office.location.id), float(office.location.id)]
    statuses = []
    for n, location in enumerate(spellings):
        body = {
            "services": [{"id": office.service.id, "quantity": 1}],
            "location": location,
            "start": at(day, 9, 10 * n).isoformat(),
            "name": "Erika Mustermann",
            "email": "erika@example.org",
        }
        statuses.append(client.post("/api/v1/appointments/bookings", json=body).status_code)

    assert statuses == [201, 201, 429]
