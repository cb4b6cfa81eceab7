"""The applicant tidying up their own case: removing a wrong attachment, deleting a draft.

- An attachment can be removed while the case is a draft, and while the clerk has asked for documents — then only
  those added since the request: what the clerk had already seen stays part of the file.
- A draft can be deleted with its attachments; the files leave storage once the transaction commits.
Only the applicant (or a member acting for the business the case belongs to) may do either; for anybody else the
case does not exist. Each is one transaction with its audit event.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from permits import rules
from permits.errors import PermitError, PermitNotFound
from permits.models import PermitApplication, PermitAttachment, PermitState
from permits.services.applications import _case, _subject
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.services import discard_file
from portal.timeutil import as_utc, utcnow
from portal.transaction import transaction

S = PermitState


def removable(application: PermitApplication, attachment: PermitAttachment) -> bool:
    """Whether the applicant may take this attachment off the case now."""
    if application.state == S.DRAFT:
        return True
    if application.state == S.DOCUMENTS_REQUESTED and application.state_changed_at is not None:
        return as_utc(attachment.added_at) >= as_utc(application.state_changed_at)
    return False


def remove_attachment(actor: Actor, application: PermitApplication, attachment_id: int) -> None:
    if not rules.is_owner(actor, application):
        raise PermitNotFound()
    attachment = next((a for a in application.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise PermitError("attachments", _l("Diese Unterlage gibt es nicht."), "unknown_attachment", 404)
    if not removable(application, attachment):
        raise PermitError(
            "attachments", _l("Diese Unterlage kann jetzt nicht mehr entfernt werden."), "not_removable", 409
        )
    with transaction():
        kind = attachment.kind
        _discard(actor, attachment)
        application.attachments.remove(attachment)
        application.updated_at = utcnow()
        audit.record(
            "permits.attachment_removed",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            kind=kind,
        )


def delete_draft(actor: Actor, application: PermitApplication) -> None:
    if not rules.is_owner(actor, application):
        raise PermitNotFound()
    if application.state != S.DRAFT:
        raise PermitError("state", _l("Nur ein Entwurf kann gelöscht werden."), "not_a_draft", 409)
    with transaction():
        # Audited before the row goes: the event names the case by its id, which the delete does not reuse.
        audit.record(
            "permits.draft_deleted",
            actor,
            target=application,
            subject_user_id=_subject(application),
            case=_case(application),
            attachments=len(application.attachments),
        )
        for attachment in list(application.attachments):
            _discard(actor, attachment)
        db.session.delete(application)


def _discard(actor: Actor, attachment: PermitAttachment) -> None:
    stored = db.session.scalar(sa.select(StoredFile).where(StoredFile.key == attachment.file_key))
    if stored is not None:
        # The case's owner side may remove it even if a colleague of the business uploaded it (rules checked above).
        discard_file(actor, stored)
