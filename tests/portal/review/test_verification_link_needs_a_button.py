"""A mail scanner that opens a verification link confirms nothing; only the button on the page does."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.builders import PASSWORD


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "LOGIN_SLOW_SECONDS": 0, "LOGIN_SLOW_MAX_SECONDS": 0}


def _verification_path(address: str) -> str:
    body = db.session.scalar(sa.select(OutboxMessage.body_text).where(OutboxMessage.recipient == address))
    assert body
    match = re.search(r"https?://[^/\s]+(/email-bestaetigen/[^\s?]+)", body)
    assert match
    return match.group(1)


def _register_in_the_name_of(auth, address: str) -> None:
    auth.post_form(
        "/registrieren",
        {"display_name": "Mallory", "email": address, "password": PASSWORD, "password_confirm": PASSWORD},
    )


def test_opening_the_link_leaves_a_strangers_registration_unconfirmed(client, auth):
    _register_in_the_name_of(auth, "victim@example.org")
    path = _verification_path("victim@example.org")

    # What a link-checking mail scanner at the victim's provider does:
    opened = client.get(path)
    client.head(path)

    assert opened.status_code == 200
    assert "E-Mail-Adresse bestätigen" in opened.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "victim@example.org"))
    db.session.refresh(user)
    assert user.email_verified_at is None
    assert auth.login("victim@example.org", PASSWORD).status_code == 200  # still refused: not verified


def test_pressing_the_button_confirms_and_the_link_is_then_spent(client, auth):
    _register_in_the_name_of(auth, "berta@example.org")
    path = _verification_path("berta@example.org")

    assert auth.post_form(path, {}).headers["Location"] == "/anmelden"
    assert client.get(path).status_code == 404


def test_confirming_without_the_csrf_token_does_nothing(client, auth):
    _register_in_the_name_of(auth, "berta@example.org")
    path = _verification_path("berta@example.org")

    assert client.post(path).status_code == 400
    user = db.session.scalar(sa.select(User).where(User.email == "berta@example.org"))
    assert user.email_verified_at is None
