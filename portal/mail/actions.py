"""Audit actions of the mail area (the outbox admin page)."""

from portal.audit.registry import declare

declare(
    "mail.message_viewed",
    ["outbox_message_id"],
    "A platform admin read an outbox message's text (it may hold a person's sign-in or verification link)",
)
declare("mail.message_requeued", ["outbox_message_id", "previous_status"], "A failed outbox message was queued again")
