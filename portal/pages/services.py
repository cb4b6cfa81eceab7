"""Use cases of the public pages: accessibility feedback."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.actors import Actor
from portal.audit import services as audit
from portal.mail.services import enqueue
from portal.transaction import transaction

DEFAULT_ACCESSIBILITY_CONTACT = "barrierefreiheit@stadt.example"


def accessibility_contact() -> str:
    return current_app.config.get("ACCESSIBILITY_CONTACT", DEFAULT_ACCESSIBILITY_CONTACT)


def send_accessibility_feedback(actor: Actor, *, message: str, page: str = "", name: str = "", email: str = "") -> None:
    """Mail the feedback to the accessibility contact (via the outbox) and audit that it was sent.

    The audit event names only the page: the message and the sender's details stay in the mail, so the
    append-only trail holds no free text a person may later want erased.
    No acknowledgement goes to the given address: the form is anonymous and must not become a way to
    send our mail to strangers.
    """
    with transaction():
        enqueue(
            accessibility_contact(),
            _l("Rückmeldung zur Barrierefreiheit"),
            "accessibility_feedback",
            language="de",
            message=message.strip(),
            page=page.strip(),
            name=name.strip(),
            email=email.strip(),
            account_email=actor.user.email if actor.user is not None else None,
        )
        audit.record(
            "feedback.accessibility",
            actor,
            subject_user_id=actor.user.id if actor.user is not None else None,
            page=page.strip()[:200],
        )
