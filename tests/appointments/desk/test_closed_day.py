"""Mass cancellation of a closed day: every active booking cancelled, seats freed, mails, a closure, audit."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from icalendar import Calendar

from appointments.models import Booking, Closure, SeatClaim
from appointments.services import closure_bookings
from appointments.services import desk as desk_services
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.appointments.desk.builders import cancelled_by_the_city, make_booking, today_at
from tests.builders import csrf_from, make_user


def _tomorrow_at(hour: int, minute: int = 0):
    return today_at(hour, minute) + timedelta(days=1)


def test_closing_a_day_cancels_every_booking_mails_each_adds_the_closure_and_audits(client, desk, sign_in):
    day = desk_services.local_day(_tomorrow_at(12))
    first = make_booking(desk.location, desk.service, starts_at=_tomorrow_at(9), email="a@example.org", seat=0)
    second = make_booking(desk.location, desk.service, starts_at=_tomorrow_at(9), email="b@example.org", seat=1)
    gone = make_booking(desk.location, desk.service, starts_at=_tomorrow_at(10), status="cancelled", email="c@x.org")
    other_day = make_booking(desk.location, desk.service, starts_at=_tomorrow_at(9) + timedelta(days=1))
    sign_in(desk.admin)
    url = f"/schalter/{desk.location.id}/tag-absagen"
    token = csrf_from(client.get(url).get_data(as_text=True))
    answers = {"csrf_token": token, "day": day.isoformat(), "reason": "Wasserschaden im Erdgeschoss"}
    check = client.post(url, data=answers)
    # First who is affected and the reason as mailed; nothing is cancelled yet.
    assert check.status_code == 200
    said = " ".join(check.get_data(as_text=True).split())
    assert 'Betroffene Termine</dt> <dd class="kern-description-list-item__value">2' in said
    assert 'Betroffene Personen</dt> <dd class="kern-description-list-item__value">2' in said
    assert "Wasserschaden im Erdgeschoss" in said
    assert "Ja, Tag absagen und 2 Personen benachrichtigen" in said
    db.session.refresh(first)
    assert first.status == "confirmed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 0
    response = client.post(url, data={**answers, "confirmed": "ja"})
    assert response.status_code == 302
    assert "2 Termine wurden abgesagt" in client.get(response.headers["Location"]).get_data(as_text=True)

    for booking in (first, second, gone, other_day):
        db.session.refresh(booking)
    assert first.status == second.status == "cancelled"
    assert first.cancel_reason == "Wasserschaden im Erdgeschoss"
    assert first.sequence == 1
    assert other_day.status == "confirmed"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(SeatClaim).where(SeatClaim.booking_id.in_([first.id, second.id]))
        )
        == 0
    )

    mails = {m.recipient: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert set(mails) == {"a@example.org", "b@example.org"}
    mail = mails["a@example.org"]
    assert "Wasserschaden im Erdgeschoss" in mail.body_text
    assert "/termine/" in mail.body_text
    assert first.reference in mail.body_text
    [attachment] = mail.attachments
    calendar = Calendar.from_ical(attachment.data)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(calendar.events[0]["UID"]) == first.uid

    [closure] = db.session.scalars(sa.select(Closure))
    assert (closure.first_day, closure.last_day, closure.location_id) == (day, day, desk.location.id)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "appointment.day_cancelled")).all()
    assert sorted(e.target_type for e in events) == [
        "appointment_booking",
        "appointment_booking",
        "appointment_closure",
    ]


def test_a_clerk_may_not_close_a_day(client, desk, sign_in):
    make_booking(desk.location, desk.service, starts_at=_tomorrow_at(9))
    sign_in(desk.clerk)
    assert client.get(f"/schalter/{desk.location.id}/tag-absagen").status_code == 403
    assert db.session.scalar(sa.select(Booking.status)) == "confirmed"


def test_closing_needs_a_reason_and_keeps_the_typed_day(client, desk, sign_in):
    booking = make_booking(desk.location, desk.service, starts_at=_tomorrow_at(9))
    sign_in(desk.admin)
    url = f"/schalter/{desk.location.id}/tag-absagen"
    token = csrf_from(client.get(url).get_data(as_text=True))
    day = desk_services.local_day(booking.starts_at).isoformat()
    page = client.post(url, data={"csrf_token": token, "day": day, "reason": " "}).get_data(as_text=True)
    assert "Geben Sie einen Grund an" in page
    assert f'value="{day}"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 0
    db.session.refresh(booking)
    assert booking.status == "confirmed"


def test_a_closed_day_audits_each_booking_with_its_day_mails_those_with_an_address_and_counts_them(app, desk):
    citizen = make_user("berta@example.org")
    online = make_booking(desk.location, desk.service, starts_at=_tomorrow_at(9), user_id=citizen.id)
    by_phone = make_booking(desk.location, desk.service, starts_at=_tomorrow_at(9), email=None, seat=1)
    day = desk_services.local_day(online.starts_at)
    with app.test_request_context():
        assert closure_bookings.cancel_day(Actor.for_user(desk.admin), desk.location.id, day, " Wasserschaden ") == 2

    [mail] = cancelled_by_the_city([online, by_phone], "Wasserschaden")
    assert (mail.recipient, mail.subject) == (
        "berta@example.org",
        f"Ihr Termin am {day.strftime('%d.%m.%Y')} fällt aus",
    )
    [closure] = db.session.scalars(sa.select(Closure))
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "appointment.day_cancelled"))
    said = {(e.target_type, e.target_id): (e.subject_user_id, json.loads(e.details)) for e in events}
    on_day = {"location_id": desk.location.id, "day": day.isoformat(), "reason": "Wasserschaden"}
    assert said == {
        ("appointment_booking", str(online.id)): (citizen.id, on_day),
        ("appointment_booking", str(by_phone.id)): (None, on_day),
        ("appointment_closure", str(closure.id)): (None, {**on_day, "cancelled": 2}),
    }
