"""A proposal's optional image: a PNG or JPEG its author adds with the proposal form, described in a few words for
people who do not see it, and shown to everyone while the proposal is published.

The image is taken in as soon as a form brings it (`take_image`), before the proposal exists: the form may come
back first with similar proposals or a correction, and a browser never sends a chosen file twice. The form then
carries the file's key, and `create_proposal` attaches it only if it is the author's own image of this purpose
that no proposal has yet (checked again under the consultation's lock, so a double click cannot attach it twice).
Until then it is simply the person's upload: in their data export, erased with their account; `discard_image`
drops one they replaced or removed.

Who sees it:
- everyone, through `public_image`, while a published proposal of a public consultation shows it: a pending or
  hidden proposal's image is not found. Such a view is of public content and is not audited;
- its author, through the portal's download route (their own file);
- those who moderate the consultation, through the same route (`staff_may_read`, registered as the purpose's
  access rule): a moderator has to see the image of a pending or hidden proposal to decide on it, and that read
  is audited with the author as its subject, as every read of someone else's file is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

from participation import rules
from participation.errors import ParticipationError
from participation.models import IMAGE_ALT_MAX, Consultation, ConsultationState, ContributionState, Proposal
from participation.services.common import check_allowed, visible_consultation
from participation.text import optional_line
from portal import files
from portal.actors import Actor
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.policy import PHOTO

IMAGE_PURPOSE = "participation.proposal_image"
IMAGE_POLICY = PHOTO  # PNG or JPEG, checked by their content, at most 10 MB and 40 megapixels


@dataclass(frozen=True)
class ProposalImage:
    """What a page needs to show a proposal's image: where it is, its description and its size in pixels."""

    url: str
    alt: str
    width: int | None
    height: int | None


def take_image(actor: Actor, consultation_id: int, upload: Any) -> StoredFile:
    """Check an uploaded image (by its content, against IMAGE_POLICY) and keep it as the actor's own file, while
    they may propose in the consultation. ParticipationError on the field `image` if it is refused."""
    consultation = visible_consultation(actor, consultation_id)
    check_allowed(actor, consultation, rules.PROPOSE, field="image")
    assert actor.user is not None  # the rules let only signed-in people propose
    try:
        # The person's own file even if they act for a business: the proposal is theirs, and so is its image.
        return files.store_upload(
            actor, upload, IMAGE_POLICY, purpose=IMAGE_PURPOSE, field="image", owner_user_id=actor.user.id
        )
    except files.FileError as error:
        status = 503 if error.code == "storage_unavailable" else 422
        raise ParticipationError("image", error.message, error.code, status) from error


def own_image(actor: Actor, key: str | None) -> StoredFile | None:
    """The actor's own proposal image that no proposal has yet (a key a form carried), or None."""
    if not key or actor.user is None:
        return None
    try:
        stored = files.get_file(actor, key)
    except files.FileNotFound:
        return None
    if stored.purpose != IMAGE_PURPOSE or stored.owner_user_id != actor.user.id or attached(stored.key):
        return None
    return stored


def attached(key: str) -> bool:
    return db.session.scalar(sa.select(Proposal.id).where(Proposal.image_key == key)) is not None


def check_image(actor: Actor, key: str | None, alt: Any) -> tuple[str | None, str | None]:
    """The image key and its description for a new proposal: (None, None) without an image; refused if the key is
    not the actor's own unattached image or the description is missing."""
    if not key:
        return None, None
    if own_image(actor, key) is None:
        raise ParticipationError(
            "image", _l("Dieses Bild gibt es nicht. Bitte wählen Sie es erneut aus."), "unknown_image"
        )
    description = optional_line(alt, "image_alt", IMAGE_ALT_MAX)
    if description is None:
        raise ParticipationError(
            "image_alt", _l("Beschreiben Sie kurz, was auf dem Bild zu sehen ist."), "image_alt_required"
        )
    return key, description


def discard_image(actor: Actor, key: str | None) -> None:
    """Delete the actor's own image that no proposal has (replaced or removed in the form); nothing otherwise."""
    stored = own_image(actor, key)
    if stored is not None:
        files.delete_file(actor, stored.key)


def image_of(actor: Actor, proposal: Proposal) -> ProposalImage | None:
    """The proposal's image as its page shows it: the public address while it is published; for its author and
    those who moderate it otherwise, the access-checked one (None for anyone else, and without an image)."""
    if not proposal.image_key:
        return None
    stored = db.session.scalar(
        sa.select(StoredFile).where(StoredFile.key == proposal.image_key, StoredFile.deleted_at.is_(None))
    )
    if stored is None:
        return None
    from flask import url_for

    if proposal.state == ContributionState.PUBLISHED:
        url = url_for("participation_images.image", key=stored.key)
    elif files.can_read(actor, stored):
        url = files.download_url(stored)
    else:
        return None
    return ProposalImage(url, proposal.image_alt or "", stored.width, stored.height)


def public_image(key: str) -> tuple[StoredFile, str]:
    """The stored image and its proposal's reference, if a published proposal of a public consultation shows it;
    NotFound otherwise (unknown, erased, or its proposal pending or hidden)."""
    if not key or len(key) > 64:
        raise NotFound()
    row = db.session.execute(
        sa.select(StoredFile, Proposal.reference)
        .join(Proposal, Proposal.image_key == StoredFile.key)
        .join(Consultation, Consultation.id == Proposal.consultation_id)
        .where(
            StoredFile.key == key,
            StoredFile.deleted_at.is_(None),
            StoredFile.purpose == IMAGE_PURPOSE,
            Proposal.state == ContributionState.PUBLISHED,
            Consultation.state != ConsultationState.DRAFT,
        )
    ).first()
    if row is None:
        raise NotFound()
    return row[0], row[1]


def open_public_image(stored: StoredFile) -> IO[bytes]:
    try:
        return files.open_stored(stored)
    except files.FileNotFound:
        raise NotFound() from None


def staff_may_read(actor: Actor, stored: StoredFile) -> bool:
    """The access rule of IMAGE_PURPOSE: those who moderate the consultation of the proposal with this image."""
    from participation.services.moderation import can_moderate

    if actor.user is None:
        return False
    consultation = db.session.scalar(
        sa.select(Consultation)
        .join(Proposal, Proposal.consultation_id == Consultation.id)
        .where(Proposal.image_key == stored.key)
    )
    return consultation is not None and can_moderate(actor, consultation)
