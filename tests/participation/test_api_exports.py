"""Exports through the API: a consultation's tables as CSV (`?table=`) and as an XLSX workbook, for those who
moderate it, signed in or with their personal token of the scope participation; the same files as the staff
pages, audited, refused to everyone else, and documented in the OpenAPI."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from participation.services import exports
from portal.extensions import db
from portal.timeutil import utcnow
from tests.participation.api_helpers import API, bearer, problem_of, signed_in
from tests.participation.builders import events
from tests.participation.results_helpers import FORMULA_TITLE, FREE_TEXT, HIDDEN_TITLE, Scenario, make_scenario


@pytest.fixture
def scenario(world) -> Scenario:
    found = make_scenario(world)
    for user in (found.world.manager, found.world.other_manager, found.world.admin, found.moderator):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return found


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def _base(scenario: Scenario) -> str:
    return f"{API}/consultations/{scenario.consultation.id}"


def test_a_manager_signed_in_gets_each_table_as_csv(client, scenario):
    signed_in(client, scenario.world.manager)
    base = _base(scenario)

    default = client.get(f"{base}/export.csv")
    comments = client.get(f"{base}/export.csv", query_string={"table": "comments"})
    supports = client.get(f"{base}/export.csv?table=supports")
    survey = client.get(f"{base}/export.csv?table=survey")

    assert default.status_code == 200
    assert default.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert default.headers["Cache-Control"] == "private, no-store"
    assert default.headers["X-Content-Type-Options"] == "nosniff"
    slug = scenario.consultation.slug
    assert f'filename="beteiligung-{slug}-vorschlaege.csv"' in default.headers["Content-Disposition"]
    proposals = _csv_rows(default)
    assert proposals[0][:3] == ["Kennung", "Eingereicht am", "Titel"]
    by_reference = {row[0]: row for row in proposals[1:]}
    assert by_reference[scenario.formula.reference][2] == "'" + FORMULA_TITLE  # stays text in a spreadsheet
    assert by_reference[scenario.hidden.reference][2:4] == ["", ""]
    assert by_reference[scenario.hidden.reference][7] == "ausgeblendet"
    assert len(_csv_rows(comments)) == 6 and _csv_rows(comments)[0][1] == "Thread"
    assert _csv_rows(supports)[0] == ["Vorschlag", "Unterstützt am"] and len(_csv_rows(supports)) == 4
    assert FREE_TEXT in survey.data.decode("utf-8-sig")  # the manager gets every answer
    assert HIDDEN_TITLE not in default.data.decode("utf-8-sig")


def test_a_managers_personal_token_gets_the_workbook_and_the_export_is_audited(client, scenario):
    response = client.get(f"{_base(scenario)}/export.xlsx", headers=bearer(scenario.world.manager))

    assert response.status_code == 200
    assert response.mimetype == exports.XLSX_MIMETYPE
    assert f"beteiligung-{scenario.consultation.slug}.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Vorschläge", "Kommentare", "Unterstützungen", "Umfrage"]
    survey = [[cell.value for cell in row] for row in workbook["Umfrage"].iter_rows()]
    assert FREE_TEXT in [row[5] for row in survey]  # the token exports what its person may
    [event] = events("participation.exported")
    assert json.loads(event.details)["rows"] == {"proposals": 3, "comments": 5, "supports": 3, "survey_answers": 5}
    assert event.actor_id == str(scenario.world.manager.id)


def test_a_moderators_token_gets_no_free_texts_before_the_results_are_out(client, scenario):
    response = client.get(f"{_base(scenario)}/export.csv?table=survey", headers=bearer(scenario.moderator))

    assert response.status_code == 200
    assert _csv_rows(response)[1:] == []


def test_everyone_else_is_refused_and_nothing_is_exported(app, client, scenario):
    base = _base(scenario)
    world = scenario.world

    problem_of(client.get(f"{base}/export.xlsx", headers=bearer(world.other_manager)), 403)
    problem_of(client.get(f"{base}/export.csv", headers=bearer(None)), 403)  # a machine client acts for nobody
    problem_of(client.get(f"{base}/export.csv", headers=bearer(world.manager, scopes=("appointments",))), 403)
    problem_of(app.test_client().get(f"{base}/export.xlsx"), 401)
    other = app.test_client()
    signed_in(other, world.other_manager)
    problem_of(other.get(f"{base}/export.csv"), 403)
    citizen = app.test_client()
    signed_in(citizen, world.anna)
    problem_of(citizen.get(f"{base}/export.xlsx"), 403)
    assert events("participation.exported") == []


def test_unknown_consultations_and_tables_are_refused(client, scenario):
    headers = bearer(scenario.world.manager)

    problem_of(client.get(f"{API}/consultations/999999/export.xlsx", headers=headers), 404)
    bad = problem_of(client.get(f"{_base(scenario)}/export.csv?table=passwoerter", headers=headers), 422)
    assert "table" in json.dumps(bad)


def test_the_openapi_document_describes_the_exports(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    csv_route = paths[API + "/consultations/{consultation_id}/export.csv"]["get"]
    xlsx_route = paths[API + "/consultations/{consultation_id}/export.xlsx"]["get"]

    assert csv_route["security"] == [{"bearerAuth": ["participation"]}]
    assert xlsx_route["x-access"] == "token:participation|signed_in"
    assert "text/csv" in csv_route["responses"]["200"]["content"]
    assert exports.XLSX_MIMETYPE in xlsx_route["responses"]["200"]["content"]
    table = next(p for p in csv_route["parameters"] if p["name"] == "table")
    assert table["in"] == "query" and table["schema"]["enum"] == ["proposals", "comments", "supports", "survey"]
    assert {"403", "404"} <= set(xlsx_route["responses"])
