"""The outbox admin page's use cases: list, read and re-queue messages. Platform admins only."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import defer, selectinload
from werkzeug.exceptions import Conflict, Forbidden, NotFound

import portal.mail.actions  # noqa: F401  (declares the mail area's audit actions)
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow
from portal.transaction import transaction

PER_PAGE = 25
STATUSES = ("pending", "sending", "sent", "failed")


@dataclass(frozen=True)
class OutboxPage:
    messages: list[OutboxMessage]
    page: int
    pages: int
    total: int
    status: str | None

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _require_platform_admin(actor: Actor) -> None:
    if not actor.has_role("platform_admin"):
        raise Forbidden()


def list_outbox(actor: Actor, page: int = 1, status: str | None = None) -> OutboxPage:
    """One page of the outbox, newest first; `status` narrows it to one state (unknown values are ignored)."""
    _require_platform_admin(actor)
    status = status if status in STATUSES else None
    condition = OutboxMessage.status == status if status else sa.true()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(condition)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(condition)
        # The list never shows bodies; do not load them for 25 rows.
        .options(defer(OutboxMessage.body_text), defer(OutboxMessage.body_html))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return OutboxPage(list(messages), page, pages, total, status)


def read_message(actor: Actor, message_pk: int) -> OutboxMessage:
    """One message with its text. Reading is audited: the text may hold someone's one-time link."""
    _require_platform_admin(actor)
    with transaction():
        message = db.session.get(OutboxMessage, message_pk, options=[selectinload(OutboxMessage.attachments)])
        if message is None:
            raise NotFound()
        audit.record("mail.message_viewed", actor, target=message, outbox_message_id=message.id)
    return message


def requeue_message(actor: Actor, message_pk: int) -> OutboxMessage:
    """Give a failed message a fresh set of attempts, due now (e.g. after the mail server was fixed)."""
    _require_platform_admin(actor)
    with transaction():
        message = db.session.get(OutboxMessage, message_pk, with_for_update=True)
        if message is None:
            raise NotFound()
        if message.status != "failed":
            raise Conflict()
        previous = message.status
        message.status = "pending"
        message.attempts = 0
        message.next_attempt_at = utcnow()
        audit.record(
            "mail.message_requeued", actor, target=message, outbox_message_id=message.id, previous_status=previous
        )
    return message
