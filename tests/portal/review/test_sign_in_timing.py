"""Signing in with an unknown address costs the same password hashing as with a known one."""

from __future__ import annotations

import pytest

from portal.accounts import passwords
from portal.accounts.services import signin
from tests.builders import make_user


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "LOGIN_SLOW_SECONDS": 0, "LOGIN_SLOW_MAX_SECONDS": 0}


@pytest.fixture
def hashed(monkeypatch) -> list[str | None]:
    calls: list[str | None] = []

    def counting(password_hash: str | None, password: str) -> bool:
        calls.append(password_hash)
        return passwords.verify_password(password_hash, password)

    monkeypatch.setattr(signin, "verify_password", counting)
    return calls


def test_unknown_address_is_checked_against_a_password_hash_too(app, client, auth, hashed):
    make_user("anna@example.org")

    auth.login("anna@example.org", "wrong password 1")
    auth.login("nobody@example.org", "wrong password 1")

    # One argon2 verification each: the answer for a missing account takes as long as for a wrong password.
    assert len(hashed) == 2
