"""Accepting invitations sent by mail: to join a business, or to take a staff role (created by the admin area).

The invitation binds to an address: only a person signed in with that (verified) address can accept it.
Tokens are stored as SHA-256 hashes (portal.accounts.services.common.hash_token); the link is /einladung/<token>.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import DepartmentMembership, Invitation, OrganisationMember, UserRole
from portal.accounts.services.common import AccountError, NotAllowedError, hash_token, normalise_email
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction


@dataclass(frozen=True)
class InvitationView:
    kind: str
    email: str
    organisation_name: str | None
    department_name: str | None
    role: str | None
    role_label: str | None


def _find(raw_token: str) -> Invitation | None:
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == hash_token(raw_token or "")))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        return None
    return invitation


def describe_invitation(raw_token: str) -> InvitationView | None:
    """What the invitation offers, for the page behind the link; None if it is not valid (any more)."""
    invitation = _find(raw_token)
    if invitation is None:
        return None
    organisation_name = department_name = None
    if invitation.organisation_id is not None:
        from portal.accounts.models import Organisation

        organisation = db.session.get(Organisation, invitation.organisation_id)
        organisation_name = organisation.name if organisation else None
    if invitation.department_id is not None:
        from portal.departments.models import Department

        department = db.session.get(Department, invitation.department_id)
        department_name = department.name if department else None
    return InvitationView(
        invitation.kind,
        invitation.email,
        organisation_name,
        department_name,
        invitation.role,
        _role_label(invitation.role),
    )


def _role_label(role: str | None) -> str | None:
    """The role's name as declared (portal.declarations); the raw name for a role no longer declared."""
    if role is None:
        return None
    from portal.declarations import role_label

    return str(role_label(role))


def accept_invitation(actor: Actor, raw_token: str) -> Invitation:
    """Grant what the invitation offers to the signed-in actor, if it was sent to their address."""
    user = actor.user
    if user is None:
        raise NotAllowedError(_("Bitte melden Sie sich an, um die Einladung anzunehmen."))
    with transaction():
        invitation = _find(raw_token)
        if invitation is None:
            raise AccountError(_("Diese Einladung ist nicht mehr gültig."))
        if normalise_email(invitation.email) != normalise_email(user.email) or user.email_verified_at is None:
            raise NotAllowedError(
                _("Diese Einladung gilt für eine andere E-Mail-Adresse. Melden Sie sich mit dieser Adresse an.")
            )
        claimed = db.session.execute(
            sa.update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
            .values(accepted_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise AccountError(_("Diese Einladung ist nicht mehr gültig."))
        if invitation.kind == "organisation":
            _join_organisation(user.id, invitation)
        else:
            _grant_staff_role(actor, invitation)
        audit.record(
            "invitation.accepted",
            actor,
            target=invitation,
            subject_user_id=user.id,
            kind=invitation.kind,
            organisation_id=invitation.organisation_id,
            department_id=invitation.department_id,
            role=invitation.role,
        )
        db.session.refresh(invitation)
    return invitation


def _join_organisation(user_id: int, invitation: Invitation) -> None:
    exists = db.session.scalar(
        sa.select(OrganisationMember).where(
            OrganisationMember.organisation_id == invitation.organisation_id, OrganisationMember.user_id == user_id
        )
    )
    if exists is None:
        db.session.add(OrganisationMember(organisation_id=invitation.organisation_id, user_id=user_id, role="member"))


def _grant_staff_role(actor: Actor, invitation: Invitation) -> None:
    user = actor.user
    assert user is not None
    if not invitation.role:
        raise AccountError(_("Diese Einladung nennt keine Rolle."))
    if invitation.department_id is not None:
        held = any(m.department_id == invitation.department_id and m.role == invitation.role for m in user.memberships)
        if not held:
            user.memberships.append(DepartmentMembership(department_id=invitation.department_id, role=invitation.role))
    elif invitation.role not in user.global_roles:
        user.roles.append(UserRole(role=invitation.role))
    audit.record(
        "role.granted",
        actor,
        target=user,
        subject_user_id=user.id,
        role=invitation.role,
        department_id=invitation.department_id,
        invitation_id=invitation.id,
    )
