"""Fixtures of the accounts tests: no artificial sign-in delay, and helpers to read mail and audit events."""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "LOGIN_SLOW_SECONDS": 0, "LOGIN_SLOW_MAX_SECONDS": 0}


LINK_RE = re.compile(r"https?://[^\s<>\"']+")


def outbox_to(address: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
        )
    )


def link_path(message: OutboxMessage, path_part: str) -> str:
    """The path (for the test client) of the first link in the mail's text whose address contains `path_part`."""
    for link in LINK_RE.findall(message.body_text):
        if path_part in link:
            return urlparse(link).path
    raise AssertionError(f"no link containing {path_part!r} in mail {message.subject!r}")


def events(action: str, **where: object) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.action == action)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(db.session.scalars(query.order_by(AuditEvent.seq)))


def details(event: AuditEvent) -> dict:
    return json.loads(event.details)
