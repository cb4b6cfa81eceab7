"""The case API: GET /api/v1/permits/applications/{case} for the applicant (from the signed-in browser; personal
tokens are for staff only) and GET /api/v1/permits/cases for the permit clerks; both in the OpenAPI."""

from __future__ import annotations

from datetime import date

from permits.services import applications, desk
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from tests.builders import PASSWORD, make_user
from tests.permits.builders import make_draft

API = "/api/v1/permits"


def _bearer(user, scopes=("permits",)) -> dict[str, str]:
    _, raw = create_token(SYSTEM, "Sondernutzungs-App", list(scopes), user=user)
    return {"Authorization": f"Bearer {raw}"}


def _granted(world):
    actor = world.applicant_actor
    application = applications.submit(actor, make_draft(actor), today=date(2026, 5, 4))
    desk.accept(world.officer_actor, application)
    return desk.grant(world.officer_actor, application, desk.Grant(date(2026, 6, 1), date(2026, 6, 3), "Auflage"))


def test_the_applicant_reads_their_case_with_its_documents(client, auth, world):
    application = _granted(world)
    auth.login("antrag@example.org", PASSWORD)
    response = client.get(f"{API}/applications/{application.reference}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["state"] == "fee_notice" and body["fee_cents"] == 3940
    assert body["kassenzeichen"] == application.kassenzeichen and body["conditions"] == "Auflage"
    assert body["valid_from"] == "2026-06-01" and body["valid_until"] == "2026-06-03"
    assert sorted(d["kind"] for d in body["documents"]) == ["fee_notice", "permit"]
    assert "applicant_email" not in body


def test_somebody_elses_case_and_a_token_without_the_scope_are_refused(client, auth, world):
    application = _granted(world)
    url = f"{API}/applications/{application.reference}"
    assert client.get(url).status_code == 401
    wrong_scope = _bearer(world.officer, scopes=("appointments",))
    assert client.get(url, headers=wrong_scope).status_code == 403
    assert client.get(url, headers=_bearer(world.officer)).status_code == 200  # the clerk of the case may read it
    make_user("fremd@example.org")
    auth.login("fremd@example.org", PASSWORD)
    assert client.get(url).status_code == 404


def test_the_clerks_case_list_filters_and_is_for_clerks_only(client, world):
    application = _granted(world)
    officer = _bearer(world.officer)
    listed = client.get(f"{API}/cases?state=fee_notice&q=markt", headers=officer)
    assert listed.status_code == 200
    [case] = listed.get_json()
    assert case["reference"] == application.reference and case["applicant_email"] == "antrag@example.org"
    assert client.get(f"{API}/cases?state=refused", headers=officer).get_json() == []
    assert client.get(f"{API}/cases?state=nonsense", headers=officer).status_code == 422
    other = make_user("kasse@stadt.example", roles=("treasury",))
    assert client.get(f"{API}/cases", headers=_bearer(other)).status_code == 403


def test_the_case_endpoints_are_in_the_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/permits/applications/{case}"]
    assert "get" in paths["/api/v1/permits/cases"]
