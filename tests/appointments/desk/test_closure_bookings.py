"""Adding a closure shows the bookings in its days and offers to cancel them, each citizen notified."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from icalendar import Calendar

from appointments.models import Closure
from appointments.services import closure_bookings
from appointments.services.desk import local_day
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.appointments.desk.builders import cancelled_by_the_city, make_booking, today_at
from tests.builders import csrf_from, make_user


def _days_ahead(days: int, hour: int):
    return today_at(hour) + timedelta(days=days)


def _add_closure(client, desk, first: int, last: int):
    url = f"/admin/termine/standorte/{desk.location.id}/schliesstage"
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(
        url,
        data={
            "csrf_token": token,
            "first_day": _days_ahead(first, 12).date().isoformat(),
            "last_day": _days_ahead(last, 12).date().isoformat(),
            "reason": "Umzug",
        },
    )


def test_adding_a_closure_lists_its_bookings_and_cancels_them_with_mail(client, desk, sign_in):
    inside = make_booking(desk.location, desk.service, starts_at=_days_ahead(2, 9), name="Ina Innen", email="i@x.org")
    later = make_booking(desk.location, desk.service, starts_at=_days_ahead(3, 10), name="Lea Later", email="l@x.org")
    outside = make_booking(desk.location, desk.service, starts_at=_days_ahead(5, 9), name="Otto Außen")
    sign_in(desk.admin)
    added = _add_closure(client, desk, 2, 3)
    closure = db.session.scalar(sa.select(Closure))
    assert added.status_code == 302
    assert added.headers["Location"].endswith(f"/schliesstage/{closure.id}/termine")

    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "Ina Innen" in page and "Lea Later" in page and "Otto Außen" not in page
    assert "2 Termine absagen" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0  # nothing happened yet

    done = client.post(added.headers["Location"], data={"csrf_token": csrf_from(page), "reason": "Umzug ins Rathaus"})
    assert done.status_code == 302
    for booking in (inside, later, outside):
        db.session.refresh(booking)
    assert inside.status == later.status == "cancelled"
    assert inside.cancel_reason == "Umzug ins Rathaus"
    assert outside.status == "confirmed"
    mails = {m.recipient: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert set(mails) == {"i@x.org", "l@x.org"}
    assert "Umzug ins Rathaus" in mails["i@x.org"].body_text
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "appointment.closure_cancelled"))
    assert sorted(json.loads(e.details)["reference"] for e in events) == sorted([inside.reference, later.reference])


def test_clerks_can_neither_see_nor_cancel_a_closure_s_bookings(client, desk, sign_in):
    inside = make_booking(desk.location, desk.service, starts_at=_days_ahead(2, 9), name="Ina Innen")
    closure = Closure(location_id=desk.location.id, first_day=inside.starts_at.date(), last_day=inside.starts_at.date())
    db.session.add(closure)
    db.session.commit()
    sign_in(desk.clerk)
    url = f"/admin/termine/standorte/{desk.location.id}/schliesstage/{closure.id}/termine"
    assert client.get(url).status_code == 403
    page = client.get(f"/schalter/{desk.location.id}", follow_redirects=True).get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf_from(page), "reason": "Umzug"}).status_code == 403
    db.session.refresh(inside)
    assert inside.status == "confirmed"


def test_cancelling_a_closure_s_bookings_frees_their_seats_sends_the_cancelling_calendar_and_audits_each(app, desk):
    citizen = make_user("ina@example.org")
    online = make_booking(desk.location, desk.service, starts_at=_days_ahead(2, 9), email="i@x.org", user_id=citizen.id)
    by_phone = make_booking(desk.location, desk.service, starts_at=_days_ahead(3, 9), email=None)
    first, last = online.starts_at.date(), by_phone.starts_at.date()
    closure = Closure(location_id=desk.location.id, first_day=first, last_day=last, reason="Umzug")
    db.session.add(closure)
    db.session.commit()
    with app.test_request_context():
        cancelled = closure_bookings.cancel_affected(
            Actor.for_user(desk.admin), desk.location.id, closure.id, " Umzug  ins\nRathaus "
        )
    assert cancelled == 2

    [mail] = cancelled_by_the_city([online, by_phone], "Umzug ins Rathaus")
    day = local_day(online.starts_at).strftime("%d.%m.%Y")
    assert (mail.recipient, mail.subject) == ("i@x.org", f"Ihr Termin am {day} fällt aus")
    assert "Umzug ins Rathaus" in mail.body_text and "/termine/" in mail.body_text
    [attachment] = mail.attachments
    calendar = Calendar.from_ical(attachment.data)
    assert (str(calendar["METHOD"]), str(calendar.events[0]["UID"])) == ("CANCEL", online.uid)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "appointment.closure_cancelled"))
    said = {e.target_id: (e.target_type, e.subject_user_id, json.loads(e.details)) for e in events}
    days = {"location_id": desk.location.id, "first_day": first.isoformat(), "last_day": last.isoformat()}
    assert said == {
        str(online.id): (
            "appointment_booking",
            citizen.id,
            {**days, "reason": "Umzug ins Rathaus", "reference": online.reference},
        ),
        str(by_phone.id): (
            "appointment_booking",
            None,
            {**days, "reason": "Umzug ins Rathaus", "reference": by_phone.reference},
        ),
    }
