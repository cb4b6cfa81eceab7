"""Mail tests: the app talks to a real SMTP server on loopback, and test-only mail templates are loadable."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import session
from jinja2 import ChoiceLoader, FileSystemLoader

from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import Attachment, enqueue
from portal.transaction import transaction

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def app_config(app_config: dict, smtp_server) -> dict:
    return {**app_config, **smtp_server.config(), "MAIL_MAX_ATTEMPTS": 3}


@pytest.fixture(autouse=True)
def _test_mail_templates(app):
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(TEMPLATES)])


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def enqueue_committed(
    recipient: str = "anna@example.org",
    subject: str = "Bitte bestätigen Sie Ihre Adresse",
    template: str = "test_hello",
    *,
    language: str = "de",
    attachments: tuple[Attachment, ...] = (),
    **context,
) -> int:
    context.setdefault("name", "Anna")
    context.setdefault("link", "https://stadtportal.example/bestaetigen/abc123")
    with transaction():
        message = enqueue(recipient, subject, template, language=language, attachments=attachments, **context)
    return message.id


def outbox_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def sign_in(app, client, user) -> None:
    """Put a signed-in session for `user` into the test client's cookie, without the sign-in form."""
    from portal.accounts.sessions import start_session

    with app.test_request_context():
        start_session(user, "password")
        db.session.commit()
        data = dict(session)
    with client.session_transaction() as client_session:
        client_session.update(data)
