"""Helpers of the participation API tests: signing in with the CSRF token a script sends, tokens, problems."""

from __future__ import annotations

from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from tests.builders import csrf_from
from tests.portal.audit.helpers import sign_in

API = "/api/v1/participation"
PROBLEM = "application/problem+json"


def signed_in(client, user) -> dict[str, str]:
    """Sign in on the client's session; the headers a browser's script sends with a change (the CSRF token)."""
    sign_in(client, user)
    return {"X-CSRFToken": csrf_from(client.get("/beteiligung/").get_data(as_text=True))}


def bearer(user=None, scopes=("participation",)) -> dict[str, str]:
    _, raw = create_token(SYSTEM, "Beteiligungs-App", list(scopes), user=user)
    return {"Authorization": f"Bearer {raw}"}


def problem_of(response, status: int, code: str | None = None) -> dict:
    """The problem JSON of a refusal, checked for its status (and the rule's code)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
    return body
