"""The clerk's desk over HTTP: who may use it, check-in with queue numbers, calling, served / no-show,
walk-ins and the waiting-room display."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from appointments.models import Booking, SeatClaim
from appointments.services import desk as desk_services
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.appointments.builders import make_bookable_location
from tests.appointments.desk.builders import earlier_today, make_booking, today_at
from tests.builders import csrf_from, make_department, make_user


def _today_url(location) -> str:
    return f"/schalter/{location.id}/{desk_services.local_day(today_at(12)).isoformat()}"


def _post(client, page_url: str, url: str, data: dict):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _check_in(client, location, reference: str):
    return _post(client, _today_url(location), f"/schalter/{location.id}/anmelden", {"reference": reference})


def _actions(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == name)))


def test_the_clerk_sees_the_day_list_with_names_services_and_status(client, desk, sign_in):
    make_booking(desk.location, desk.service, starts_at=today_at(9), reference="T-2026-000501")
    sign_in(desk.clerk)
    page = client.get(_today_url(desk.location)).get_data(as_text=True)
    assert "T-2026-000501" in page
    assert "Berta Bürgerin" in page
    assert "Personalausweis beantragen" in page
    assert "Gebucht" in page


def test_the_location_choice_lists_only_locations_the_clerk_serves(client, desk, sign_in):
    other = make_bookable_location(department=make_department("bauamt", "Bauamt"), name="Bauamt Nord")
    sign_in(desk.clerk)
    page = client.get("/schalter/").get_data(as_text=True)
    assert desk.location.name in page
    assert other.name not in page


def test_a_clerk_of_another_department_is_refused(client, desk, sign_in):
    stranger_department = make_department("bauamt", "Bauamt")
    stranger = make_user("bau@stadt.example", department=stranger_department, department_role="clerk", totp=True)
    sign_in(stranger)
    assert client.get(_today_url(desk.location)).status_code == 403
    assert client.get(f"/schalter/{desk.location.id}/statistik").status_code == 403
    assert client.get(f"/schalter/{desk.location.id}/ohne-termin").status_code == 403


def test_a_citizen_is_refused(client, desk, auth):
    make_user("buerger@example.org")
    auth.login("buerger@example.org")
    assert client.get(_today_url(desk.location)).status_code == 403
    assert client.get("/schalter/").status_code == 403


def test_check_in_by_reference_gives_queue_numbers_one_two_three(client, desk, sign_in):
    bookings = [
        make_booking(desk.location, desk.service, starts_at=today_at(8, 0) + timedelta(minutes=20 * i), seat=0)
        for i in range(3)
    ]
    sign_in(desk.clerk)
    for expected, booking in enumerate(bookings, start=1):
        # Scanners and people type lower case and stray spaces.
        response = _check_in(client, desk.location, f" {booking.reference.lower()} ")
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"Wartenummer {expected}" in page
    numbers = db.session.scalars(sa.select(Booking.queue_number).order_by(Booking.queue_number)).all()
    assert numbers == [1, 2, 3]
    assert len(_actions("appointment.checked_in")) == 3


def test_a_queue_number_taken_concurrently_is_retried_with_the_next(app, desk):
    first = make_booking(desk.location, desk.service, starts_at=today_at(8))
    second = make_booking(desk.location, desk.service, starts_at=today_at(8, 30))
    actor = Actor.for_user(desk.clerk)
    desk_services.check_in(actor, desk.location.id, first.reference)
    # Simulate the other desk's insert landing between our read of the maximum and our write.
    real_scalar = db.session.scalar
    calls = {"n": 0}

    def stale_max(statement, *args, **kwargs):
        if "max(" in str(statement).lower() and calls["n"] == 0:
            calls["n"] += 1
            return 0
        return real_scalar(statement, *args, **kwargs)

    db.session.scalar = stale_max  # type: ignore[method-assign]
    try:
        booking = desk_services.check_in(actor, desk.location.id, second.reference)
    finally:
        db.session.scalar = real_scalar  # type: ignore[method-assign]
    assert calls["n"] == 1
    assert booking.queue_number == 2


def test_check_in_of_another_days_booking_is_refused(client, desk, sign_in):
    booking = make_booking(desk.location, desk.service, starts_at=today_at(9) + timedelta(days=1))
    sign_in(desk.clerk)
    response = _check_in(client, desk.location, booking.reference)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Dieser Termin ist nicht heute" in page
    db.session.refresh(booking)
    assert booking.status == "confirmed" and booking.queue_number is None


def test_check_in_of_a_cancelled_booking_is_refused(client, desk, sign_in):
    booking = make_booking(desk.location, desk.service, starts_at=today_at(9), status="cancelled")
    sign_in(desk.clerk)
    page = _check_in(client, desk.location, booking.reference).get_data(as_text=True)
    assert "abgesagt oder ist verfallen" in page
    db.session.refresh(booking)
    assert booking.status == "cancelled" and booking.queue_number is None


def test_check_in_of_an_unknown_reference_is_refused_next_to_the_field(client, desk, sign_in):
    sign_in(desk.clerk)
    page = _check_in(client, desk.location, "T-2026-999999").get_data(as_text=True)
    assert 'id="reference-error"' in page
    assert "keinen Termin" in page


def test_call_next_takes_the_longest_waiting_first(client, desk, sign_in):
    late = make_booking(desk.location, desk.service, starts_at=today_at(8), seat=0)
    early = make_booking(desk.location, desk.service, starts_at=today_at(9), seat=1)
    sign_in(desk.clerk)
    _check_in(client, desk.location, early.reference)  # arrives first, though booked later
    _check_in(client, desk.location, late.reference)
    url = f"/schalter/{desk.location.id}/aufrufen"
    first = _post(client, _today_url(desk.location), url, {"counter": "Schalter 2"})
    assert "Wartenummer 1 wurde an Schalter 2 aufgerufen" in client.get(first.headers["Location"]).get_data(
        as_text=True
    )
    _post(client, _today_url(desk.location), url, {"counter": "Schalter 1"})
    db.session.refresh(early)
    db.session.refresh(late)
    assert (early.status, early.counter) == ("called", "Schalter 2")
    assert (late.status, late.counter) == ("called", "Schalter 1")
    assert early.called_at <= late.called_at
    third = _post(client, _today_url(desk.location), url, {"counter": "Schalter 1"})
    assert "Niemand wartet" in client.get(third.headers["Location"]).get_data(as_text=True)
    assert len(_actions("appointment.called")) == 2


def test_served_after_a_call(client, desk, sign_in):
    booking = make_booking(desk.location, desk.service, starts_at=today_at(9))
    sign_in(desk.clerk)
    _check_in(client, desk.location, booking.reference)
    _post(client, _today_url(desk.location), f"/schalter/{desk.location.id}/aufrufen", {"counter": "Schalter 1"})
    response = _post(
        client, _today_url(desk.location), f"/schalter/{desk.location.id}/erledigt", {"booking_id": booking.id}
    )
    assert "ist erledigt" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(booking)
    assert booking.status == "served" and booking.served_at is not None
    assert len(_actions("appointment.served")) == 1


def test_no_show_only_for_a_passed_start_without_check_in(client, desk, sign_in):
    passed = make_booking(desk.location, desk.service, starts_at=earlier_today(), seat=0)
    future = make_booking(desk.location, desk.service, starts_at=today_at(9) + timedelta(days=1), seat=1)
    sign_in(desk.clerk)
    url = f"/schalter/{desk.location.id}/nicht-erschienen"
    _post(client, _today_url(desk.location), url, {"booking_id": future.id})
    _post(client, _today_url(desk.location), url, {"booking_id": passed.id})
    db.session.refresh(passed)
    db.session.refresh(future)
    assert passed.status == "no_show" and passed.no_show_at is not None
    assert future.status == "confirmed" and future.no_show_at is None
    assert len(_actions("appointment.no_show")) == 1


def test_no_show_is_refused_for_someone_who_checked_in(app, desk):
    booking = make_booking(desk.location, desk.service, starts_at=earlier_today())
    actor = Actor.for_user(desk.clerk)
    desk_services.check_in(actor, desk.location.id, booking.reference)
    try:
        desk_services.mark_no_show(actor, desk.location.id, booking.id)
    except desk_services.BookingError as error:
        assert error.code == "status"
    else:
        raise AssertionError("no-show of a checked-in visitor was accepted")


def test_a_walk_in_gets_the_next_queue_number_and_claims_no_seat(client, desk, sign_in):
    booking = make_booking(desk.location, desk.service, starts_at=today_at(9))
    sign_in(desk.clerk)
    _check_in(client, desk.location, booking.reference)
    claims_before = db.session.scalar(sa.select(sa.func.count()).select_from(SeatClaim))
    url = f"/schalter/{desk.location.id}/ohne-termin"
    response = _post(client, url, url, {"services": str(desk.service.id), "name": ""})
    assert response.status_code == 302
    assert "Wartenummer 2" in client.get(response.headers["Location"]).get_data(as_text=True)
    walk_in = db.session.scalar(sa.select(Booking).where(Booking.kind == "walk_in"))
    assert walk_in is not None
    assert (walk_in.status, walk_in.queue_number, walk_in.reference) == ("checked_in", 2, None)
    assert walk_in.ends_at - walk_in.starts_at == timedelta(minutes=15)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SeatClaim)) == claims_before
    assert len(_actions("appointment.walk_in")) == 1


def test_a_walk_in_without_a_service_is_refused(client, desk, sign_in):
    sign_in(desk.clerk)
    url = f"/schalter/{desk.location.id}/ohne-termin"
    page = _post(client, url, url, {"name": "Max"}).get_data(as_text=True)
    assert "Wählen Sie mindestens eine Leistung" in page
    assert 'value="Max"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_the_display_shows_numbers_and_counters_but_no_names(client, desk, sign_in):
    called = make_booking(desk.location, desk.service, starts_at=today_at(8), name="Carla Geheim", seat=0)
    waiting = make_booking(desk.location, desk.service, starts_at=today_at(9), name="Dora Diskret", seat=1)
    actor = Actor.for_user(desk.clerk)
    desk_services.check_in(actor, desk.location.id, called.reference)
    desk_services.check_in(actor, desk.location.id, waiting.reference)
    desk_services.call_next(actor, desk.location.id, "Schalter 2")
    response = client.get(f"/schalter/{desk.location.id}/anzeige")  # nobody signed in
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Refresh"] == "10"
    called_section = page.split('id="called-heading"')[1].split('id="waiting-heading"')[0]
    assert re.search(r">1</span>.*Schalter 2", called_section, re.S)
    waiting_section = page.split('id="waiting-heading"')[1]
    assert ">2</span>" in waiting_section
    for secret in ("Carla", "Dora", called.reference, waiting.reference):
        assert secret not in page
    assert "<script" not in page
    paused = client.get(f"/schalter/{desk.location.id}/anzeige?anhalten=1")
    assert "Refresh" not in paused.headers
    assert "Automatisch aktualisieren" in paused.get_data(as_text=True)
