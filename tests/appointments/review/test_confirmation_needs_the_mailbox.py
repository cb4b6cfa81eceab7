"""A booking that must be confirmed by mail cannot be confirmed by whoever made it without that mailbox."""

from __future__ import annotations

from appointments.services.booking import confirm_booking
from tests.appointments.booking.builders import at, mails_to, make_office, workday


def _book(client, office, email: str = "someone-else@example.org"):
    return client.post(
        "/api/v1/appointments/bookings",
        json={
            "services": [{"id": office.service.id, "quantity": 1}],
            "location": office.location.id,
            "start": at(workday(), 9, 0).isoformat(),
            "name": "Mallory",
            "email": email,
        },
    )


def test_api_answer_for_a_booking_awaiting_confirmation_holds_no_token_that_confirms(app, client):
    office = make_office(confirm_within_minutes=30)

    created = _book(client, office).get_json()

    assert created["status"] == "reserved"
    assert not created["manage_token"]
    # Only the mailbox can confirm: the link in the mail still works.
    (mail,) = mails_to("someone-else@example.org")
    token = mail.body_text.split(f"/termine/bestaetigen/{created['reference']}/", 1)[1].split()[0]
    assert confirm_booking(created["reference"], token).status == "confirmed"


def test_api_answer_for_a_booking_without_confirmation_still_holds_the_manage_token(app, client):
    office = make_office()

    created = _book(client, office).get_json()

    assert created["status"] == "confirmed"
    assert created["manage_token"]
    shown = client.get(
        f"/api/v1/appointments/bookings/{created['reference']}", query_string={"token": created["manage_token"]}
    )
    assert shown.status_code == 200
