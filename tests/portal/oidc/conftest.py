"""A real OpenID Connect provider (oidc-provider-mock) on a loopback port, and a helper driving the flow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from oidc_provider_mock import run_server_in_thread


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[str]:
    # require_nonce: the provider refuses an authorization request without one, so we prove we send it.
    with run_server_in_thread(port=0, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def app_config(app_config: dict, oidc_issuer: str) -> dict:
    return {
        **app_config,
        "OIDC_ISSUER": oidc_issuer,
        "OIDC_CLIENT_ID": "stadtportal",
        "OIDC_CLIENT_SECRET": "geheim",
        "OIDC_PROVIDER_NAME": "BundID",
        "OIDC_ASSURANCE_CLAIM": "acr",
    }


class Provider:
    """Drives the browser's part: to the provider, pick a subject there, back to our callback."""

    def __init__(self, issuer: str, client) -> None:
        self.issuer = issuer
        self.client = client

    def set_user(self, sub: str, **claims: Any) -> None:
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def authorize(self, sub: str, start: str = "/oidc/anmelden") -> tuple[str, dict]:
        """Start at our app, authorise `sub` at the provider; return the callback URL and the request sent."""
        response = self.client.get(start)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        assert location.startswith(self.issuer + "/oauth2/authorize")
        sent = dict(requests.utils.urlparse(location)._asdict())
        answer = requests.post(location, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"], sent

    def sign_in(self, sub: str, start: str = "/oidc/anmelden"):
        callback, _ = self.authorize(sub, start)
        parts = urlsplit(callback)
        return self.client.get(f"{parts.path}?{parts.query}")


@pytest.fixture
def provider(oidc_issuer: str, client) -> Provider:
    return Provider(oidc_issuer, client)
