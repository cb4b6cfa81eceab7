"""POST /api/v1/permits/fee-preview: public, 3940 cents for the container example, and every bad input answered
with problem JSON naming the field (never a 5xx); GET /api/v1/permits/use-types; both in the OpenAPI document."""

from __future__ import annotations

import json

import pytest

URL = "/api/v1/permits/fee-preview"
EXAMPLE = {"use_type": "container", "street": "Markt", "area_m2": 6, "start": "2027-06-01", "end": "2027-06-03"}


def _post(client, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json")


def test_the_container_example_costs_39_40(client, world):
    response = _post(client, EXAMPLE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total_cents"] == 3940 and body["currency"] == "EUR"
    assert sum(line["amount_cents"] for line in body["breakdown"]) == 3940
    assert [line["code"] for line in body["breakdown"]] == ["usage", "administrative"]
    assert body["breakdown"][0]["unit_price_cents"] == 80 and body["breakdown"][0]["quantity"] == "18"
    assert body["tariff"]["effective_from"] == "2020-01-01"
    assert (body["zone"], body["area_m2"], body["days"], body["units"]) == (1, "6.00", 3, 3)
    assert body["use_type"]["code"] == "container" and body["use_type"]["unit"] == "day"
    assert body["earliest_start"]


def test_decimals_and_an_exemption_count(client, world):
    body = _post(client, {**EXAMPLE, "area_m2": 6.5, "street": "hauptstr.", "exemption": "half"}).get_json()
    # zone 2: 6.5 m² × 3 days × 0.60 € = 11.70 €; half of it and half of the 25 € administrative fee waived.
    assert body["zone"] == 2 and body["total_cents"] == 1170 + 2500 - 585 - 1250


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**EXAMPLE, "use_type": "zirkus"}, 422, "use_type"),
        ({**EXAMPLE, "street": "Nirgendwo"}, 422, "street"),
        ({**EXAMPLE, "area_m2": 0}, 422, "area_m2"),
        ({**EXAMPLE, "area_m2": -6}, 422, "area_m2"),
        ({**EXAMPLE, "area_m2": 0.001}, 422, "area_m2"),
        ({**EXAMPLE, "area_m2": 20_000}, 422, "area_m2"),
        ({**EXAMPLE, "end": "2027-05-31"}, 422, "end"),
        ({**EXAMPLE, "end": "2037-05-31"}, 422, "end"),
        ({**EXAMPLE, "area_m2": "6"}, 422, "area_m2"),
        ({**EXAMPLE, "area_m2": True}, 422, "area_m2"),
        ({**EXAMPLE, "area_m2": None}, 422, "area_m2"),
        ({**EXAMPLE, "area_m2": [6]}, 422, "area_m2"),
        (
            '{"use_type": "container", "street": "Markt", "area_m2": 1e400, '
            '"start": "2027-06-01", "end": "2027-06-03"}',
            422,
            "area_m2",
        ),
        ({**EXAMPLE, "area_m2": 10**30}, 422, "area_m2"),
        ({**EXAMPLE, "start": "2027-13-01"}, 422, "start"),
        ({**EXAMPLE, "start": 20270601}, 422, "start"),
        ({**EXAMPLE, "street": "Markt\u0000"}, 422, "street"),
        ({**EXAMPLE, "street": "M" * 201}, 422, "street"),
        ({**EXAMPLE, "use_type": ""}, 422, "use_type"),
        (
            '{"use_type": "container", "street": "\\ud800", "area_m2": 6, "start": "2027-06-01", "end": "2027-06-03"}',
            422,
            "street",
        ),
        ({**EXAMPLE, "exemption": "gefaellig"}, 422, "exemption"),
        ({**EXAMPLE, "colour": "red"}, 422, "colour"),
        ({key: value for key, value in EXAMPLE.items() if key != "end"}, 422, "end"),
        ([EXAMPLE], 422, None),
        ('{"use_type": "container", "street": ', 400, None),
        ("[" * 100_000, 400, None),
        ('{"area_m2": ' + "9" * 5000 + "}", 400, None),
        (b"\xff\xfe not utf-8", 400, None),
    ],
)
def test_bad_input_is_problem_json_naming_the_field(client, world, body, status, field):
    response = _post(client, body)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"]
    if field is not None:
        assert field in problem["errors"], problem


def test_a_rule_refusal_carries_its_code_and_german_message(client, world):
    problem = _post(client, {**EXAMPLE, "street": "Nirgendwo", "end": "2027-05-01"}).get_json()
    assert problem["codes"] == {"street": "unknown_street", "end": "end_before_start"}
    assert problem["errors"]["end"] == ["Das Ende darf nicht vor dem Beginn liegen."]
    assert problem["detail"].startswith("Diese Straße kennen wir nicht.")


def test_a_use_without_a_rate_in_its_zone_is_refused(client, world):
    problem = _post(client, {**EXAMPLE, "use_type": "cafe_seating", "street": "Hauptstraße"}).get_json()
    assert problem["codes"] == {"use_type": "no_tariff"}


def test_the_use_types_are_listed(client, world):
    response = client.get("/api/v1/permits/use-types")
    assert response.status_code == 200
    codes = [item["code"] for item in response.get_json()]
    assert codes == ["container", "scaffolding", "cafe_seating", "event"]
    scaffolding = response.get_json()[1]
    assert scaffolding["required_attachments"] == ["site_plan", "liability_insurance"]
    assert scaffolding["unit"] == "week" and scaffolding["lead_working_days"] == 10


def test_the_openapi_document_describes_the_preview_as_public(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"][URL]["post"]
    assert operation["security"] == []
    assert "requestBody" in operation and {"200", "422"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["FeePreview"]
    assert set(schema["required"]) == {"use_type", "street", "area_m2", "start", "end"}
    assert spec["paths"]["/api/v1/permits/use-types"]["get"]["security"] == []
