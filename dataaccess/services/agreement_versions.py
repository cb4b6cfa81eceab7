"""Finding the versions of an access agreement: one by id (locked for a change), the latest or the open one of
a reference, all of them, and the one an access names (`resolve`). All versions of one agreement share its DZV
reference; at most one of them is a draft or submitted, at most one approved (the database guards both).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from dataaccess.models import AccessAgreement, AgreementState
from portal.extensions import db
from portal.references import parse_reference


def get_version(agreement_id: int) -> AccessAgreement:
    agreement = db.session.get(AccessAgreement, agreement_id)
    if agreement is None:
        raise NotFound()
    return agreement


def lock_version(agreement_id: int) -> AccessAgreement:
    """The version, read afresh and locked until the transaction ends (a decision and a change wait their turn)."""
    agreement = db.session.scalar(
        sa.select(AccessAgreement)
        .where(AccessAgreement.id == agreement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if agreement is None:
        raise NotFound()
    return agreement


def _newest_first(reference: str) -> sa.Select[AccessAgreement]:
    return (
        sa.select(AccessAgreement)
        .where(AccessAgreement.reference == reference)
        .order_by(AccessAgreement.version.desc())
    )


def versions(reference: str) -> list[AccessAgreement]:
    """All versions of an agreement, newest first."""
    return list(db.session.scalars(_newest_first(reference)))


def latest_version(reference: str) -> AccessAgreement:
    found = db.session.scalar(_newest_first(reference).limit(1))
    if found is None:
        raise NotFound()
    return found


def open_version(reference: str) -> AccessAgreement | None:
    """The draft or submitted version of the reference, if there is one."""
    return db.session.scalar(
        sa.select(AccessAgreement).where(
            AccessAgreement.reference == reference,
            AccessAgreement.state.in_((AgreementState.DRAFT.value, AgreementState.SUBMITTED.value)),
        )
    )


def resolve(agreement: Any) -> AccessAgreement | None:
    """The version an access names: an AccessAgreement, its id (int or digits) for that very version, or a
    reference ("DZV-2026-000001") for the version in force — the approved one, else the latest decided one
    (so a revoked agreement says "revoked"), else the latest draft. None when nothing matches."""
    # The access needs the dataset and the consuming department too: one statement instead of three.
    with_parts = (joinedload(AccessAgreement.dataset), joinedload(AccessAgreement.consumer_department))
    if isinstance(agreement, AccessAgreement):
        return db.session.get(AccessAgreement, agreement.id, options=with_parts)
    if isinstance(agreement, str) and agreement.strip().isdigit():
        agreement = int(agreement.strip())
    if isinstance(agreement, int) and not isinstance(agreement, bool):
        return db.session.get(AccessAgreement, agreement, options=with_parts) if 0 < agreement < 2**31 else None
    if not isinstance(agreement, str) or parse_reference(agreement) is None:
        return None
    found = list(db.session.scalars(_newest_first(agreement.strip().upper()).options(*with_parts)))
    for wanted in (
        lambda a: a.state == AgreementState.APPROVED,
        lambda a: a.state != AgreementState.DRAFT,
        lambda a: True,
    ):
        match = next((a for a in found if wanted(a)), None)
        if match is not None:
            return match
    return None
