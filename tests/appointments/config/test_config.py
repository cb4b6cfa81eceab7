"""Department admins configure a location's appointments at /admin/termine."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
import sqlalchemy as sa

from appointments.models import Closure, LocationSettings, OfferedService, OpeningPeriod
from portal.extensions import db
from tests.appointments.builders import make_catalogue_service
from tests.appointments.calendar.helpers import audit_events, post_form, sign_in
from tests.builders import make_department, make_location, make_user

SETTINGS = {
    "active": "y",
    "counters": "4",
    "slot_minutes": "10",
    "horizon_days": "60",
    "min_notice_minutes": "120",
    "buffer_minutes": "0",
    "held_back_seats": "1",
    "confirm_within_minutes": "30",
    "max_open_per_email": "2",
    "cancel_cooldown_minutes": "15",
    "reminder_hours": "24",
    "waitlist_offer_minutes": "120",
    "search_rate_count": "120",
    "search_rate_unit": "minute",
    "booking_rate_count": "10",
    "booking_rate_unit": "hour",
}


@pytest.fixture
def mitte(app):
    return make_location(make_department(), name="Bürgerbüro Mitte")


@pytest.fixture
def amtsadmin(mitte):
    return make_user(
        "amtsadmin@stadt.example", department=mitte.department, department_role="department_admin", totp=True
    )


def _url(location, section: str = "") -> str:
    return f"/admin/termine/standorte/{location.id}/{section}"


def test_department_admin_sets_up_a_location_and_it_is_audited(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)
    overview = client.get("/admin/termine/").get_data(as_text=True)
    assert "Bürgerbüro Mitte" in overview and "nicht eingerichtet" in overview

    response = post_form(client, _url(mitte), SETTINGS)

    assert response.status_code == 302
    settings = db.session.get(LocationSettings, mitte.id)
    assert settings is not None
    assert (settings.counters, settings.held_back_seats, settings.confirm_within_minutes) == (4, 1, 30)
    assert settings.cancel_cooldown_minutes == 15
    [event] = audit_events("appointment.config_saved")
    assert event["location_id"] == mitte.id and "counters" in event["fields"] and event["created"] is True
    assert "Die Einstellungen wurden gespeichert." in client.get(response.location).get_data(as_text=True)


def test_empty_confirmation_time_means_no_confirmation(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    post_form(client, _url(mitte), {**SETTINGS, "confirm_within_minutes": ""})

    assert db.session.get(LocationSettings, mitte.id).confirm_within_minutes is None


def test_held_back_seats_must_be_fewer_than_counters(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    response = post_form(client, _url(mitte), {**SETTINGS, "counters": "2", "held_back_seats": "2"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="held_back_seats-error"' in page
    assert "weniger sein als Schalter" in page
    assert re.search(r'<input[^>]*name="counters"[^>]*value="2"', page)  # typed values kept
    assert db.session.get(LocationSettings, mitte.id) is None
    assert audit_events("appointment.config_saved") == []


def test_malformed_rate_limit_is_refused_next_to_its_field(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    response = post_form(client, _url(mitte), {**SETTINGS, "booking_rate_count": "viele"})
    unknown_unit = post_form(client, _url(mitte), {**SETTINGS, "search_rate_unit": "fortnight"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="booking_rate_count-error"' in page
    assert 'value="viele"' in page
    assert unknown_unit.status_code == 422
    assert 'id="search_rate_unit-error"' in unknown_unit.get_data(as_text=True)


def test_rate_limits_are_typed_as_number_and_unit_and_stored_for_the_limiter(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    saved = post_form(client, _url(mitte), {**SETTINGS, "booking_rate_count": "25", "booking_rate_unit": "day"})

    assert saved.status_code == 302
    settings = db.session.get(LocationSettings, mitte.id)
    assert (settings.search_rate_limit, settings.booking_rate_limit) == ("120/minute", "25/day")
    page = client.get(_url(mitte)).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="booking_rate_count"[^>]*value="25"', page)
    assert re.search(r'<option[^>]*selected[^>]*value="day"|<option[^>]*value="day"[^>]*selected', page)


def test_admin_of_another_department_and_a_clerk_are_refused(client, mitte):
    other = make_department("bauordnung", "Bauordnungsamt")
    foreign_admin = make_user("bauadmin@stadt.example", department=other, department_role="department_admin", totp=True)
    clerk = make_user("clerk@stadt.example", department=mitte.department, department_role="clerk", totp=True)

    sign_in(client, foreign_admin)
    assert "Bürgerbüro Mitte" not in client.get("/admin/termine/").get_data(as_text=True)
    assert client.get(_url(mitte)).status_code == 403
    assert client.get(_url(mitte, "oeffnungszeiten")).status_code == 403
    sign_in(client, clerk)
    assert client.get("/admin/termine/").status_code == 200
    assert client.get(_url(mitte, "leistungen")).status_code == 403
    # With a valid CSRF token (from a page the clerk may open), so the permission check is what refuses.
    response = post_form(client, _url(mitte), SETTINGS, page="/admin/termine/")
    assert response.status_code == 403
    assert db.session.get(LocationSettings, mitte.id) is None


def test_citizen_cannot_reach_the_configuration(client, mitte):
    sign_in(client, make_user("buerger@example.org"))

    assert client.get("/admin/termine/").status_code == 403


def test_platform_admin_configures_any_location(client, mitte):
    sign_in(client, make_user("admin@stadt.example", roles=("platform_admin",), totp=True))

    assert client.get(_url(mitte)).status_code == 200
    assert post_form(client, _url(mitte), SETTINGS).status_code == 302
    db.session.expire_all()
    saved = db.session.get(LocationSettings, mitte.id)
    assert saved is not None
    assert (saved.counters, saved.slot_minutes, saved.horizon_days, saved.max_open_per_email) == (4, 10, 60, 2)


def test_offered_service_is_added_edited_and_refused_twice(client, mitte, amtsadmin):
    service = make_catalogue_service(mitte.department, "Reisepass beantragen")
    sign_in(client, amtsadmin)

    response = post_form(
        client,
        _url(mitte, "leistungen"),
        {"catalogue_service_id": str(service.id), "duration_minutes": "20", "max_quantity": "3", "active": "y"},
    )
    assert response.status_code == 302
    offered = db.session.scalars(sa.select(OfferedService)).one()
    assert (offered.duration_minutes, offered.max_quantity, offered.active) == (20, 3, True)
    assert "Reisepass beantragen" in client.get(_url(mitte, "leistungen")).get_data(as_text=True)

    twice = post_form(
        client,
        _url(mitte, "leistungen"),
        {"catalogue_service_id": str(service.id), "duration_minutes": "25", "max_quantity": "3"},
    )
    assert twice.status_code == 422
    assert "schon angeboten" in twice.get_data(as_text=True)

    edit = post_form(
        client,
        _url(mitte, f"leistungen/{offered.id}"),
        {"catalogue_service_id": str(service.id), "duration_minutes": "25", "max_quantity": "2"},
    )
    assert edit.status_code == 302
    db.session.refresh(offered)
    assert (offered.duration_minutes, offered.max_quantity, offered.active) == (25, 2, False)
    events = audit_events("appointment.config_service_saved")
    assert [e["duration_minutes"] for e in events] == [20, 25]


def test_service_duration_out_of_range_is_shown_next_to_the_field(client, mitte, amtsadmin):
    service = make_catalogue_service(mitte.department, "Reisepass beantragen")
    sign_in(client, amtsadmin)

    response = post_form(
        client,
        _url(mitte, "leistungen"),
        {"catalogue_service_id": str(service.id), "duration_minutes": "2", "max_quantity": "3"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="duration_minutes-error"' in page
    assert db.session.scalars(sa.select(OfferedService)).all() == []


def _add_hours(client, location, weekday: int | list[int], opens: str, closes: str, **validity: str):
    weekdays = [str(day) for day in (weekday if isinstance(weekday, list) else [weekday])]
    return post_form(
        client,
        _url(location, "oeffnungszeiten"),
        {"weekdays": weekdays, "opens": opens, "closes": closes, **validity},
    )


def test_opening_hours_with_a_break_are_accepted(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    assert _add_hours(client, mitte, 0, "08:00", "12:00").status_code == 302
    assert _add_hours(client, mitte, 0, "13:00", "16:00").status_code == 302

    periods = db.session.scalars(sa.select(OpeningPeriod).order_by(OpeningPeriod.opens)).all()
    assert [(p.opens, p.closes) for p in periods] == [(time(8), time(12)), (time(13), time(16))]
    page = client.get(_url(mitte, "oeffnungszeiten")).get_data(as_text=True)
    assert "08:00–12:00" in page and "13:00–16:00" in page
    assert len(audit_events("appointment.config_hours_saved")) == 2


def test_closing_before_opening_is_refused(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    response = _add_hours(client, mitte, 1, "12:00", "08:00")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="closes-error"' in page and "nach der Öffnungszeit" in page
    assert 'value="12:00"' in page
    assert db.session.scalars(sa.select(OpeningPeriod)).all() == []


def test_overlapping_intervals_on_one_weekday_are_refused_unless_validity_differs(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)
    _add_hours(client, mitte, 2, "08:00", "12:00", valid_until="2026-12-31")

    overlap = _add_hours(client, mitte, 2, "11:00", "14:00")
    other_period = _add_hours(client, mitte, 2, "11:00", "14:00", valid_from="2027-01-01")
    other_day = _add_hours(client, mitte, 3, "11:00", "14:00")

    assert overlap.status_code == 422
    assert 'id="opens-error"' in overlap.get_data(as_text=True)
    assert "Mittwoch 08:00–12:00" in overlap.get_data(as_text=True)
    assert other_period.status_code == 302
    assert other_day.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OpeningPeriod)) == 3


def test_opening_interval_is_removed_and_audited(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)
    _add_hours(client, mitte, 4, "08:00", "12:00")
    period = db.session.scalars(sa.select(OpeningPeriod)).one()

    response = post_form(
        client, _url(mitte, f"oeffnungszeiten/{period.id}/loeschen"), {}, page=_url(mitte, "oeffnungszeiten")
    )

    assert response.status_code == 302
    assert db.session.scalars(sa.select(OpeningPeriod)).all() == []
    assert audit_events("appointment.config_hours_deleted") == [
        {"location_id": mitte.id, "weekday": 4, "opens": "08:00", "closes": "12:00"}
    ]


def test_single_closed_day_and_range_are_recorded(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    single = post_form(client, _url(mitte, "schliesstage"), {"first_day": "2026-12-23", "reason": "Betriebsausflug"})
    span = post_form(client, _url(mitte, "schliesstage"), {"first_day": "2026-12-28", "last_day": "2026-12-30"})

    assert single.status_code == span.status_code == 302
    closures = db.session.scalars(sa.select(Closure).order_by(Closure.first_day)).all()
    assert [(c.first_day, c.last_day) for c in closures] == [
        (date(2026, 12, 23), date(2026, 12, 23)),
        (date(2026, 12, 28), date(2026, 12, 30)),
    ]
    page = client.get(_url(mitte, "schliesstage")).get_data(as_text=True)
    assert "23.12.2026" in page and "28.12.2026–30.12.2026" in page and "Betriebsausflug" in page
    assert len(audit_events("appointment.config_closure_saved")) == 2


def test_closure_ending_before_it_starts_is_refused(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    response = post_form(client, _url(mitte, "schliesstage"), {"first_day": "2026-12-23", "last_day": "2026-12-20"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="last_day-error"' in page
    assert 'value="2026-12-23"' in page
    assert db.session.scalars(sa.select(Closure)).all() == []


def test_closure_is_removed_and_audited(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)
    post_form(client, _url(mitte, "schliesstage"), {"first_day": "2026-12-23"})
    closure = db.session.scalars(sa.select(Closure)).one()

    post_form(client, _url(mitte, f"schliesstage/{closure.id}/loeschen"), {}, page=_url(mitte, "schliesstage"))

    assert db.session.scalars(sa.select(Closure)).all() == []
    assert audit_events("appointment.config_closure_deleted") == [
        {"location_id": mitte.id, "first_day": "2026-12-23", "last_day": "2026-12-23"}
    ]


def test_one_entry_opens_several_weekdays_or_none_when_one_overlaps(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)
    _add_hours(client, mitte, 4, "10:00", "11:00")

    refused = _add_hours(client, mitte, [0, 1, 2, 3, 4], "08:00", "12:00")
    accepted = _add_hours(client, mitte, [0, 1, 2, 3], "08:00", "12:00")

    assert refused.status_code == 422
    assert "Freitag 10:00–11:00" in refused.get_data(as_text=True)
    assert accepted.status_code == 302
    weekdays = db.session.scalars(sa.select(OpeningPeriod.weekday).order_by(OpeningPeriod.weekday)).all()
    assert weekdays == [0, 1, 2, 3, 4]
    assert len(audit_events("appointment.config_hours_saved")) == 5


def test_no_weekday_chosen_is_refused_next_to_the_weekdays(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)

    response = post_form(client, _url(mitte, "oeffnungszeiten"), {"opens": "08:00", "closes": "12:00"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="weekdays-error"' in page
    assert 'value="08:00"' in page


def test_an_opening_interval_is_changed_in_place_and_audited(client, mitte, amtsadmin):
    sign_in(client, amtsadmin)
    post_form(client, _url(mitte, "oeffnungszeiten"), {"weekdays": ["0"], "opens": "08:00", "closes": "12:00"})
    post_form(client, _url(mitte, "oeffnungszeiten"), {"weekdays": ["0"], "opens": "13:00", "closes": "16:00"})
    morning = db.session.scalars(sa.select(OpeningPeriod).order_by(OpeningPeriod.opens)).first()
    assert f"oeffnungszeiten/{morning.id}/bearbeiten" in client.get(_url(mitte, "oeffnungszeiten")).get_data(
        as_text=True
    )
    edit = _url(mitte, f"oeffnungszeiten/{morning.id}/bearbeiten")

    overlapping = post_form(client, edit, {"weekday": "0", "opens": "08:00", "closes": "14:00"})
    assert overlapping.status_code == 422
    assert "Überschneidet sich mit Montag 13:00–16:00 Uhr" in overlapping.get_data(as_text=True)

    changed = post_form(client, edit, {"weekday": "1", "opens": "07:30", "closes": "12:30"})
    assert changed.status_code == 302
    db.session.refresh(morning)
    assert (morning.weekday, morning.opens, morning.closes) == (1, time(7, 30), time(12, 30))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OpeningPeriod)) == 2
    [event] = audit_events("appointment.config_hours_changed")
    assert (event["weekday"], event["opens"], event["closes"]) == (1, "07:30", "12:30")
