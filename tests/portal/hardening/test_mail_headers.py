"""Issue 11, finding 10: a name with a line break never ends up in a mail header (an organisation named
`Evil\r\nBcc: x@y` made its invitation mail fail for ever)."""

from __future__ import annotations

from portal.extensions import db
from portal.mail.delivery import build_message
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow

EVIL = "Einladung zu Evil\r\nBcc: x@y"


def test_a_stored_subject_with_a_line_break_is_sent_on_one_line(app):
    # Stored before names refused line breaks: the message must still be deliverable.
    message = OutboxMessage(
        message_id="<evil@stadtportal.example>",
        recipient="anna@example.org",
        subject=EVIL,
        body_text="Hallo",
        language="de",
        created_at=utcnow(),
    )
    db.session.add(message)
    db.session.commit()

    mime = build_message(message)

    assert mime["Subject"] == "Einladung zu Evil Bcc: x@y"
    assert mime["Bcc"] is None
    assert b"\r\nBcc:" not in mime.as_bytes()


def test_a_new_mail_stores_its_subject_on_one_line(app):
    from portal.mail.services import enqueue
    from portal.transaction import transaction

    with transaction():
        message = enqueue(
            "anna@example.org", EVIL + "\x00", "account_password_reset", link="https://stadtportal.example/x"
        )

    assert message.subject == "Einladung zu Evil Bcc: x@y"
