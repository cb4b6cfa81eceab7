"""The public API: services, locations offering one, and free times with the Berlin offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import request

from appointments.models import Closure, LocationSettings
from portal.extensions import db
from portal.timeutil import BERLIN
from tests import clock
from tests.appointments.builders import make_bookable_location, make_catalogue_service, offer
from tests.appointments.engine.builders import berlin, claim, next_open_tuesday
from tests.builders import make_department

API = "/api/v1/appointments"


@pytest.fixture
def office():
    department = make_department()
    location = make_bookable_location(department=department, counters=2, slot_minutes=15)
    passport = make_catalogue_service(department, "Reisepass beantragen")
    certificate = make_catalogue_service(department, "Meldebescheinigung")
    offer(location, passport, minutes=30)
    offer(location, certificate, minutes=15, max_quantity=2)
    return location, passport, certificate


def slots(client, location, *services, day=None, to=None, **params):
    day = day or next_open_tuesday()
    query = {"location": location.id, "from": day.isoformat(), "to": (to or day).isoformat(), **params}
    if services:
        query["service"] = [s.id for s in services]
    return client.get(f"{API}/slots", query_string=query)


def test_services_list_names_locations_and_durations(client, office):
    location, passport, _certificate = office
    response = client.get(f"{API}/services")
    assert response.status_code == 200
    by_name = {service["name"]: service for service in response.get_json()}
    assert set(by_name) == {"Reisepass beantragen", "Meldebescheinigung"}
    entry = by_name["Reisepass beantragen"]
    assert entry["id"] == passport.id
    assert entry["department"] == "Bürgeramt"
    assert entry["locations"] == [location.id]
    assert entry["durations"] == [{"location": location.id, "minutes": 30, "max_quantity": 5}]


def test_a_service_offered_only_at_an_inactive_location_is_not_listed(client, office):
    location, _passport, _certificate = office
    db.session.get(LocationSettings, location.id).active = False
    db.session.commit()
    assert client.get(f"{API}/services").get_json() == []


def test_locations_offering_a_service_with_address_and_duration(client, office):
    location, passport, _ = office
    response = client.get(f"{API}/locations", query_string={"service": passport.id})
    assert response.status_code == 200
    [entry] = response.get_json()
    assert entry["id"] == location.id
    assert entry["name"] == "Bürgerbüro Mitte"
    assert entry["address"] == "Rathausplatz 1, 01067 Musterstadt"
    assert (entry["latitude"], entry["longitude"]) == (51.05, 13.74)
    assert entry["duration"] == 30


def test_locations_of_an_unknown_service_is_a_422_on_the_field(client, office):
    response = client.get(f"{API}/locations", query_string={"service": 9999})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "service" in response.get_json()["errors"]


def test_free_times_carry_the_berlin_offset_and_seats_left(client, office):
    location, passport, _ = office
    day = next_open_tuesday()
    response = slots(client, location, passport, day=day)
    assert response.status_code == 200
    body = response.get_json()
    assert body["duration"] == 30
    assert body["from"] == day.isoformat() and body["to"] == day.isoformat()
    first = body["slots"][0]
    assert first["start"] == berlin(day, 8).astimezone(BERLIN).isoformat()
    assert first["start"].startswith(f"{day.isoformat()}T08:00:00")
    assert first["start"][-6:] in ("+01:00", "+02:00")
    assert datetime.fromisoformat(first["start"]).astimezone(UTC) == berlin(day, 8)
    assert first["seats_left"] == 2
    starts = [slot["start"][11:16] for slot in body["slots"]]
    assert starts[-1] == "15:30"
    assert "11:30" in starts and "11:45" not in starts  # no visit across the lunch break


def test_claimed_seats_reduce_seats_left_and_a_full_unit_disappears(client, office):
    location, passport, _ = office
    day = next_open_tuesday()
    claim(location, [berlin(day, 9)], seats=(0,))
    claim(location, [berlin(day, 10)], seats=(0, 1))
    found = {slot["start"][11:16]: slot["seats_left"] for slot in slots(client, location, passport).get_json()["slots"]}
    assert found["08:15"] == 2
    assert found["08:45"] == 1 and found["09:00"] == 1
    assert found["09:30"] == 2
    assert "09:45" not in found and "10:00" not in found
    assert found["10:15"] == 2


def test_combined_services_book_their_summed_duration(client, office):
    location, passport, certificate = office
    response = slots(client, location, passport, certificate)
    assert response.get_json()["duration"] == 45
    response = client.get(
        f"{API}/slots",
        query_string={
            "location": location.id,
            "services": f"{passport.id}:2,{certificate.id}:1",
            "from": next_open_tuesday().isoformat(),
            "to": next_open_tuesday().isoformat(),
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["duration"] == 75
    assert body["slots"][-1]["start"][11:16] == "14:45"


def test_quantity_multiplies_the_duration(client, office):
    location, _passport, certificate = office
    assert slots(client, location, certificate, quantity=2).get_json()["duration"] == 30


def test_a_closed_day_has_no_free_times(client, office):
    location, passport, _ = office
    day = next_open_tuesday()
    db.session.add(Closure(location_id=location.id, first_day=day, last_day=day, reason="Betriebsausflug"))
    db.session.commit()
    assert slots(client, location, passport, day=day).get_json()["slots"] == []


def test_days_in_the_past_are_answered_with_no_free_times(client, office):
    location, passport, _ = office
    day = next_open_tuesday() - timedelta(days=28)
    response = slots(client, location, passport, day=day)
    assert response.status_code == 200
    assert response.get_json()["slots"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"service": [9999]}, "service"),
        ({"services": "9999:1"}, "services"),
        ({"services": "eins:zwei"}, "services"),
        ({"quantity": 3}, "service"),  # over the certificate's max_quantity of 2
        ({"quantity": 0}, "quantity"),
        ({"location": 9999}, "location"),
        ({}, "service"),
        ({"to": "2026-01-01", "from": "2026-01-05"}, "to"),
        ({"from": "2026-01-01", "to": "2026-02-01"}, "to"),
        ({"from": "morgen"}, "from"),
    ],
    ids=[
        "unknown-service",
        "unknown-service-in-services",
        "malformed-services",
        "too-many",
        "zero-quantity",
        "unknown-location",
        "no-service",
        "to-before-from",
        "more-than-31-days",
        "malformed-date",
    ],
)
def test_bad_input_is_a_422_problem_with_the_field(client, office, params, field):
    location, _passport, certificate = office
    day = next_open_tuesday().isoformat()
    query = {"location": location.id, "service": [certificate.id], "from": day, "to": day}
    if "services" in params or params == {}:
        query.pop("service")
    query.update(params)
    response = client.get(f"{API}/slots", query_string=query)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 422
    assert field in body["errors"], body


def test_a_range_of_31_days_is_accepted(client, office):
    location, passport, _ = office
    day = next_open_tuesday()
    response = slots(client, location, passport, day=day, to=day + timedelta(days=30))
    assert response.status_code == 200
    assert len({slot["start"][:10] for slot in response.get_json()["slots"]}) >= 15


def test_openapi_lists_the_public_appointment_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("services", "locations", "slots"):
        operation = spec["paths"][f"{API}/{path}"]["get"]
        assert operation["security"] == []
        assert operation["x-access"] == "public"
    parameters = {p["name"] for p in spec["paths"][f"{API}/slots"]["get"]["parameters"]}
    assert {"service", "services", "quantity", "location", "from", "to"} <= parameters


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True}


def test_slot_search_is_rate_limited_by_the_locations_setting(client, office):
    location, passport, _ = office
    db.session.get(LocationSettings, location.id).search_rate_limit = "2/minute"
    db.session.commit()
    assert slots(client, location, passport).status_code == 200
    assert slots(client, location, passport).status_code == 200
    response = slots(client, location, passport)
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"


def test_offsets_switch_from_plus_one_to_plus_two_across_the_spring_change(client, office, monkeypatch):
    location, passport, _ = office
    db.session.get(LocationSettings, location.id).horizon_days = 730
    db.session.commit()
    thursday = date(2027, 3, 25)  # clocks go forward on Sunday 28 March 2027; Good Friday, Easter Monday closed
    # Asked a week before, whenever the test runs (it used to skip for good once the date had passed).
    clock.freeze(monkeypatch, datetime(2027, 3, 18, 9, 0, tzinfo=BERLIN))
    body = slots(client, location, passport, day=thursday, to=thursday + timedelta(days=5)).get_json()
    by_day: dict[str, set[str]] = {}
    for slot in body["slots"]:
        by_day.setdefault(slot["start"][:10], set()).add(slot["start"][10:])
    assert sorted(by_day) == ["2027-03-25", "2027-03-30"]
    assert min(by_day["2027-03-25"]) == "T08:00:00+01:00"
    assert min(by_day["2027-03-30"]) == "T08:00:00+02:00"
    assert {t[-6:] for t in by_day["2027-03-25"]} == {"+01:00"}
    assert {t[-6:] for t in by_day["2027-03-30"]} == {"+02:00"}


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 1), date(2026, 7, 1)])
def test_berlin_iso_matches_isoformat_in_summer_winter_and_on_dst_sundays(day):
    from appointments.api_catalogue import berlin_iso

    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) - timedelta(hours=3)
    starts = [start + timedelta(minutes=5 * n) for n in range(12 * 30)] + [start + timedelta(seconds=30)]
    assert berlin_iso(starts) == [s.astimezone(BERLIN).isoformat() for s in starts]


def test_a_slot_search_is_loaded_once_per_query_string_and_an_error_is_never_kept(client, office, monkeypatch):
    from appointments.api_catalogue import SlotSearchSchema

    location, passport, _certificate = office
    loads = []
    original = SlotSearchSchema.load

    def counted(self, *args, **kwargs):
        loads.append(request.query_string)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SlotSearchSchema, "load", counted)
    day = next_open_tuesday()
    good = f"{API}/slots?service={passport.id}&location={location.id}&from={day}&to={day}"
    answers = [client.get(good) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3 and answers[0].data == answers[2].data
    assert len(loads) == 1  # the same query string: loaded once
    other = client.get(good + "&quantity=1")
    assert other.status_code == 200 and other.data == answers[0].data and len(loads) == 2
    backwards = f"{API}/slots?service={passport.id}&location={location.id}&from={day}&to=2000-01-01"
    for _ in range(2):
        response = client.get(backwards)
        assert response.status_code == 422 and "nicht vor" in response.get_data(as_text=True)
    assert len(loads) == 4  # refused by the schema itself each time, never kept
