"""Schemathesis over /api/v1/openapi.json, in process: every operation, valid and invalid inputs, never a 5xx.

Operations that need a bearer token get one with their scope; the signed-in-only operation gets a citizen's
session. Path parameters are tried as generated and again with the ids of real rows, so the fuzzer reaches the
code behind the 404. Besides "no 5xx", every answer must be one the operation documents, in the documented
content type (problem JSON for errors).
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.fuzz.conftest import DEMO_DOMAIN, FUZZ, sign_in
from tests.fuzz.known import API_FINDINGS
from tests.fuzz.routes import openapi_document
from tests.fuzz.seed import book_appointment, real_ids

pytestmark = pytest.mark.fuzz

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def api(fuzz_world):
    client = fuzz_world.app.test_client()
    book_appointment(client)
    citizen = fuzz_world.app.test_client()
    sign_in(citizen, f"buerger@{DEMO_DOMAIN}")
    cookie = citizen.get_cookie(fuzz_world.app.config["SESSION_COOKIE_NAME"])
    with fuzz_world.app.app_context():
        ids = real_ids()
    return {"world": fuzz_world, "ids": ids, "session_cookie": cookie.value}


def _headers(case, api) -> dict[str, str]:
    security = case.operation.definition.raw.get("security") or []
    scopes = [scope for requirement in security for scope in requirement.get("bearerAuth", [])]
    if scopes:
        return {"Authorization": f"Bearer {api['world'].tokens[scopes[0]]}"}
    if case.operation.definition.raw.get("x-access") == "signed_in":
        name = api["world"].app.config["SESSION_COOKIE_NAME"]
        return {"Cookie": f"{name}={api['session_cookie']}"}
    return {}


def _call(case, api):
    headers = _headers(case, api)
    response = case.call(app=api["world"].app, headers=headers)
    # 5xx (or an exception raised through the test client), then status codes and content types the document names.
    case.validate_response(
        response, checks=[schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance]
    )


@schema.parametrize()
@FUZZ
def test_api_operation_never_answers_5xx(case, api, request):
    finding = API_FINDINGS.get(case.operation.label)
    if finding:
        request.applymarker(pytest.mark.xfail(reason=finding, strict=False))
    _call(case, api)
    if case.path_parameters:
        ids = api["ids"]
        real = {name: ids[name][0] for name in case.path_parameters if ids.get(name)}
        if real:
            case.path_parameters = {**case.path_parameters, **real}
            _call(case, api)
