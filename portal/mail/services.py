"""Enqueueing mail in the caller's transaction. Delivery is portal.mail.delivery (flask outbox send/run)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from portal.extensions import db
from portal.inputs import single_line
from portal.mail.models import OutboxAttachment, OutboxMessage


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def enqueue(
    recipient: str,
    subject: Any,
    template: str,
    *,
    language: str = "de",
    attachments: Iterable[Attachment] = (),
    **context: Any,
) -> OutboxMessage:
    """Render `templates/mail/<template>.txt` (and `.html` if present) in the recipient's language and add
    the message to the current transaction. `subject` may be a lazy string; it is rendered in that language.
    Nothing is sent here: if the caller's transaction rolls back, the mail never existed.
    """
    language = language if language in current_app.config["LANGUAGES"] else "de"
    with force_locale(language):
        subject_text = single_line(str(subject))  # a header: a name in it must not add lines
        body_text = render_template(f"mail/{template}.txt", **context)
        try:
            body_html: str | None = render_template(f"mail/{template}.html", subject=subject_text, **context)
        except Exception as error:  # TemplateNotFound: plain text only
            if type(error).__name__ != "TemplateNotFound":
                raise
            body_html = None
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].rstrip(">") or "stadtportal.example"
    message = OutboxMessage(
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
        recipient=recipient,
        subject=subject_text,
        body_text=body_text,
        body_html=body_html,
        language=language,
        template=template,
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, data=a.data) for a in attachments
        ],
    )
    db.session.add(message)
    return message
