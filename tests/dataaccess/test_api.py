"""The data-access API with real bearer tokens: the catalogue, one read per call with its refusal codes, hostile
bodies, the citizen's own log over the session, and the CLI that binds a token to a department."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dataaccess.models import AccessClient, AccessLog
from dataaccess.services import clients
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.extensions import db
from tests.dataaccess.builders import World, approved_agreement, log_rows, today
from tests.portal.audit.helpers import sign_in

URL = "/api/v1/dataaccess/access"
DATASETS = "/api/v1/dataaccess/datasets"
CASE = "VA-2026-0815"


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _client_token(world: World, department=None, agreement: str | None = None) -> str:
    token, raw = create_token(SYSTEM, "Verkehr-Fachverfahren", ["dataaccess"])
    clients.bind_client(SYSTEM, token.id, (department or world.verkehr).id, agreement)
    return raw


@pytest.fixture
def agreement(world: World):
    return approved_agreement(world)


@pytest.fixture
def api(client, world):
    raw = _client_token(world)

    class Api:
        headers = _bearer(raw)

        def post(self, body=None, *, headers=None):
            kwargs = {}
            if isinstance(body, bytes):
                kwargs = {"data": body, "content_type": "application/json"}
            elif body is not None:
                kwargs = {"json": body}
            return client.post(URL, headers=headers or self.headers, **kwargs)

        def get(self, path: str):
            return client.get(path, headers=self.headers)

    return Api()


def _body(world: World, under, **changes):
    body = {
        "agreement": under.reference,
        "purpose": world.purpose.code,
        "case_reference": CASE,
        "subject": world.citizen.id,
        "fields": ["aktenzeichen", "status"],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


# --- the catalogue ------------------------------------------------------------------------------------------


def test_without_a_token_the_catalogue_answers_401_problem_json(client, world):
    response = client.get(DATASETS)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_token_without_the_dataaccess_scope_is_refused(client, world):
    _, raw = create_token(SYSTEM, "SIEM", ["audit"])
    assert client.get(DATASETS, headers=_bearer(raw)).status_code == 403
    assert client.post(URL, json={}, headers=_bearer(raw)).status_code == 403


def test_the_catalogue_lists_datasets_with_fields_and_categories_but_no_records(api, world):
    response = api.get(DATASETS)
    assert response.status_code == 200
    (dataset,) = response.json["datasets"]
    assert (dataset["key"], dataset["name"], dataset["subject_kind"]) == (
        "bauamt.baugenehmigungen",
        "Baugenehmigungen",
        "citizen",
    )
    assert dataset["department"] == {"slug": "bauamt", "name": "Bauordnungsamt"}
    by_name = {f["name"]: f for f in dataset["fields"]}
    assert by_name["status"]["label"] == "Stand des Verfahrens"
    assert by_name["behinderung"]["category"] == "health" and by_name["behinderung"]["special_category"] is True
    assert by_name["aktenzeichen"]["special_category"] is False
    assert "BG-2025-0101" not in response.get_data(as_text=True)


# --- reading -----------------------------------------------------------------------------------------------


def test_a_granted_read_returns_only_the_allowed_fields_asked_for_and_is_logged(api, world, agreement):
    response = api.post(_body(world, agreement))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["records"] == [{"aktenzeichen": "BG-2025-0101", "status": "genehmigt"}]
    assert (body["agreement"], body["version"], body["dataset"]) == (agreement.reference, 1, "bauamt.baugenehmigungen")
    assert body["fields"] == ["aktenzeichen", "status"]
    (log,) = log_rows()
    assert (log.id, log.audit_event_key, log.outcome, log.actor_kind) == (
        body["access_id"],
        body["audit_event"],
        "granted",
        "client",
    )
    assert log.subject_user_id == world.citizen.id and log.case_reference == CASE


def test_each_read_is_audited_naming_the_client_and_the_token_use_once_a_minute(api, world, agreement):
    from portal.audit.models import AuditEvent

    answers = [api.post(_body(world, agreement, case_reference=f"VA-{n}")).json for n in range(3)]

    db.session.rollback()
    events = {e.event_key: e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq > 0))}
    token_id = db.session.scalar(sa.select(AccessClient.token_id))
    reads = [events[answer["audit_event"]] for answer in answers]
    assert [(e.action, e.actor_type, e.actor_id) for e in reads] == [
        ("dataaccess.record_read", "client", f"token:{token_id}")
    ] * 3
    assert [e.action for e in events.values()].count("token.used") == 1


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"agreement": "DZV-2026-999999"}, 404, "no_agreement"),
        ({"purpose": "WERBUNG"}, 403, "purpose_not_allowed"),
        ({"purpose": ...}, 422, "purpose_required"),
        ({"fields": ["aktenzeichen", "behinderung"]}, 403, "field_not_allowed"),
        ({"fields": []}, 422, "fields_required"),
        ({"case_reference": ...}, 403, "case_reference_required"),
        ({"subject": 2_000_000}, 404, "unknown_subject"),
        ({"subject": "999999999999"}, 422, "invalid_subject"),
    ],
)
def test_each_refusal_is_a_problem_naming_the_rule_and_is_logged(api, world, agreement, changes, status, code):
    response = api.post(_body(world, agreement, **changes))
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["code"] == code and problem["detail"] and problem["errors"]
    (log,) = log_rows()
    assert (log.id, log.outcome, log.refusal_code) == (problem["access_id"], "refused", code)
    if code == "field_not_allowed":
        assert problem["fields"] == ["behinderung"]
    assert "records" not in problem


def test_a_client_bound_to_another_department_is_refused_as_wrong_department(client, world, agreement):
    raw = _client_token(world, department=world.kasse)
    response = client.post(URL, json=_body(world, agreement), headers=_bearer(raw))
    assert (response.status_code, response.json["code"]) == (403, "wrong_department")
    assert log_rows()[0].consumer_department_id is None


def test_a_client_bound_to_another_agreement_reads_nothing_under_this_one(client, world, agreement):
    raw = _client_token(world, agreement="DZV-2026-000999")
    response = client.post(URL, json=_body(world, agreement), headers=_bearer(raw))
    assert (response.status_code, response.json["code"]) == (403, "wrong_department")


def test_a_token_without_a_binding_reads_nothing(client, world, agreement):
    _, raw = create_token(SYSTEM, "Ungebunden", ["dataaccess"])
    response = client.post(URL, json=_body(world, agreement), headers=_bearer(raw))
    assert (response.status_code, response.json["code"]) == (403, "wrong_department")


def test_an_agreement_not_yet_in_force_is_refused(api, world):
    later = approved_agreement(world, valid_from=today() + timedelta(days=10), valid_to=today() + timedelta(days=20))
    response = api.post(_body(world, later))
    assert (response.status_code, response.json["code"]) == (403, "not_in_force")


def test_over_the_hourly_limit_the_answer_is_429_with_retry_after(api, world):
    limited = approved_agreement(world, rate_limit_per_hour=2)
    for _ in range(2):
        assert api.post(_body(world, limited)).status_code == 200
    response = api.post(_body(world, limited))
    assert (response.status_code, response.json["code"]) == (429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 3660  # counted by whole minutes: up to an hour and one
    assert [row.outcome for row in log_rows()] == ["granted", "granted", "refused"]


HOSTILE_BODIES = [
    b"not json at all",
    b"",
    b"[]",
    b"null",
    b'"DZV-2026-000001"',
    b"12",
    b'{"agreement": "DZV',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"agreement": "DZV-2026-000001", "subject": ' + b"9" * 5000 + b"}",
    b'{"agreement": "DZV-2026-000001", "subject": 1e400}',
    b'{"agreement": "DZV-2026-000001", "subject": NaN}',
    b'{"agreement": "DZV-2026-000001", "subject": 1, "purpose": "\xff\xfe"}',
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "purpose": "VERK\ud800"}).encode(),
    json.dumps({"agreement": "DZV-2026-000001\x00", "subject": 1}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 10**30}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": -1}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": True}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": [1]}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": {"id": 1}}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": "x" * 100_000}).encode(),
    json.dumps({"agreement": ["DZV-2026-000001"], "subject": 1}).encode(),
    json.dumps({"agreement": 1, "subject": 1}).encode(),
    json.dumps({"agreement": "x" * 100_000, "subject": 1}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "fields": "aktenzeichen"}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "fields": [1, 2]}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "fields": ["a\x00"]}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "fields": ["x"] * 10_000}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "case_reference": {"a": 1}}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "case_reference": "x" * 5000}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "purpose": 7}).encode(),
    json.dumps({"agreement": "DZV-2026-000001", "subject": 1, "approved": True}).encode(),
    json.dumps({"subject": 1}).encode(),
]


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_bodies_get_a_4xx_problem_never_a_5xx_and_no_data(api, world, agreement, body):
    body = body.replace(b"DZV-2026-000001", agreement.reference.encode())
    response = api.post(body)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    assert "records" not in response.json
    granted = db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(AccessLog.outcome == "granted"))
    assert granted == 0


def test_hostile_values_that_pass_the_shape_are_refused_by_a_rule_and_logged(api, world, agreement):
    for changes in (
        {"case_reference": "VA\x01\x02" + "ä" * 50},
        {"purpose": "VERK-ANORD\u202e"},
        {"fields": ["aktenzeichen", "../../etc/passwd"]},
        {"subject": str(world.citizen.id) + "0" * 20},
    ):
        response = api.post(_body(world, agreement, **changes))
        assert response.status_code in (403, 404, 422), (changes, response.json)
    assert all(row.outcome == "refused" for row in log_rows())


# --- the citizen's own log over the session --------------------------------------------------------------------


def test_my_data_access_needs_a_signed_in_person(client, world):
    response = client.get("/api/v1/me/data-access")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_my_data_access_lists_only_my_own_entries_with_their_proof(client, api, world, agreement):
    assert api.post(_body(world, agreement)).status_code == 200
    assert api.post(_body(world, agreement, subject=world.other_citizen.id)).status_code == 200
    assert api.post(_body(world, agreement, fields=["behinderung"])).status_code == 403
    sign_in(client, world.citizen)
    response = client.get("/api/v1/me/data-access")
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 2 and [e["outcome"] for e in body["entries"]] == ["refused", "granted"]
    granted = body["entries"][1]
    assert granted["department"] == "Straßenverkehrsamt" and granted["owner_department"] == "Bauordnungsamt"
    assert granted["fields"] == [
        {"name": "aktenzeichen", "label": "Aktenzeichen"},
        {"name": "status", "label": "Stand des Verfahrens"},
    ]
    assert granted["purpose"] == "Prüfung einer verkehrsrechtlichen Anordnung"
    assert granted["legal_basis"] == "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO"
    assert granted["case_reference"] == CASE and granted["by_machine"] is True
    assert granted["proof_url"].endswith(f"/konto/protokoll/{granted['audit_seq']}")
    assert body["entries"][0]["refusal_code"] == "field_not_allowed"
    assert "BG-2026-0007" not in response.get_data(as_text=True)


def test_my_data_access_is_read_only(client, world):
    sign_in(client, world.citizen)
    assert client.post("/api/v1/me/data-access", json={}).status_code in (400, 405)


# --- OpenAPI and CLI -------------------------------------------------------------------------------------------


def test_the_routes_are_documented_in_the_openapi_with_their_access_rules(client, world):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    assert paths["/api/v1/dataaccess/datasets"]["get"]["security"] == [{"bearerAuth": ["dataaccess"]}]
    read = paths["/api/v1/dataaccess/access"]["post"]
    assert read["security"] == [{"bearerAuth": ["dataaccess"]}]
    assert {"200", "403", "404", "422", "429"} <= set(read["responses"])
    assert paths["/api/v1/me/data-access"]["get"]["x-access"] == "signed_in"


def test_bind_client_binds_a_token_to_a_department_and_an_agreement(runner, world):
    token, _ = create_token(SYSTEM, "Verkehr-FV", ["dataaccess"])
    result = runner.invoke(
        args=[
            "dataaccess",
            "bind-client",
            "--token-id",
            str(token.id),
            "--department",
            "verkehr",
            "--agreement",
            "DZV-2026-000001",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Straßenverkehrsamt" in result.output
    binding = db.session.scalar(sa.select(AccessClient).where(AccessClient.token_id == token.id))
    assert (binding.department_id, binding.agreement_reference) == (world.verkehr.id, "DZV-2026-000001")


def test_bind_client_refuses_an_unknown_department_or_a_token_without_the_scope(runner, world):
    token, _ = create_token(SYSTEM, "SIEM", ["audit"])
    result = runner.invoke(args=["dataaccess", "bind-client", "--token-id", str(token.id), "--department", "nirgends"])
    assert result.exit_code != 0 and "nirgends" in result.output
    result = runner.invoke(args=["dataaccess", "bind-client", "--token-id", str(token.id), "--department", "verkehr"])
    assert result.exit_code != 0 and "dataaccess" in result.output
    assert db.session.scalar(sa.select(sa.func.count(AccessClient.id))) == 0
