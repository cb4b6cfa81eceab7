"""Business accounts: create one, invite members by mail, remove them, and act for one.

"Acting for" a business is a choice kept in the Flask session and re-checked on every read, so a member who
is removed stops acting for it at once. portal.actors.current_actor reads it via acting_organisation_id().
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Invitation, Organisation, OrganisationMember, User
from portal.accounts.services.common import (
    AccountError,
    NotAllowedError,
    external_url,
    find_user_by_email,
    new_token,
    normalise_email,
)
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import utcnow
from portal.transaction import transaction

ACTING_KEY = "acting_organisation_id"
INVITATION_DAYS = 7


@dataclass(frozen=True)
class Membership:
    organisation: Organisation
    role: str


def _user(actor: Actor) -> User:
    if actor.user is None:
        raise NotAllowedError(_("Bitte melden Sie sich an."))
    return actor.user


def _membership(user_id: int, organisation_id: int) -> OrganisationMember | None:
    return db.session.scalar(
        sa.select(OrganisationMember).where(
            OrganisationMember.user_id == user_id, OrganisationMember.organisation_id == organisation_id
        )
    )


def my_organisations(actor: Actor) -> list[Membership]:
    user = _user(actor)
    rows = db.session.scalars(
        sa.select(OrganisationMember)
        .join(Organisation)
        .where(OrganisationMember.user_id == user.id)
        .order_by(Organisation.name)
    )
    return [Membership(row.organisation, row.role) for row in rows]


def get_organisation(actor: Actor, organisation_id: int) -> Membership:
    """The organisation with the actor's role in it; members only."""
    user = _user(actor)
    member = _membership(user.id, organisation_id)
    if member is None:
        raise NotAllowedError(_("Sie sind nicht Mitglied dieser Organisation."))
    return Membership(member.organisation, member.role)


def members_of(actor: Actor, organisation_id: int) -> list[OrganisationMember]:
    get_organisation(actor, organisation_id)
    return list(
        db.session.scalars(
            sa.select(OrganisationMember)
            .where(OrganisationMember.organisation_id == organisation_id)
            .order_by(OrganisationMember.joined_at)
        )
    )


def open_invitations(actor: Actor, organisation_id: int) -> list[Invitation]:
    get_organisation(actor, organisation_id)
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organisation_id == organisation_id,
                Invitation.kind == "organisation",
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at)
        )
    )


def create_organisation(actor: Actor, name: str, register_number: str | None = None) -> Organisation:
    """A new business account with the actor as its owner."""
    user = _user(actor)
    with transaction():
        organisation = Organisation(name=name.strip(), register_number=(register_number or "").strip() or None)
        organisation.members.append(OrganisationMember(user_id=user.id, role="owner"))
        db.session.add(organisation)
        audit.record(
            "organisation.created", actor, target=organisation, subject_user_id=user.id, name=organisation.name
        )
    return organisation


def _require_owner(actor: Actor, organisation_id: int) -> Membership:
    membership = get_organisation(actor, organisation_id)
    if membership.role != "owner":
        raise NotAllowedError(_("Nur Inhaberinnen und Inhaber der Organisation dürfen das."))
    return membership


def invite_member(actor: Actor, organisation_id: int, email: str) -> Invitation:
    """Mail an invitation link to `email`; whoever holds that address accepts it while signed in."""
    user = _user(actor)
    organisation = _require_owner(actor, organisation_id).organisation
    address = normalise_email(email)
    invitee = find_user_by_email(address)
    if invitee is not None and _membership(invitee.id, organisation_id) is not None:
        raise AccountError(_("Diese Person ist bereits Mitglied."))
    with transaction():
        raw, hashed = new_token()
        invitation = Invitation(
            kind="organisation",
            email=address,
            token_hash=hashed,
            organisation_id=organisation.id,
            invited_by_id=user.id,
            expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
        )
        db.session.add(invitation)
        enqueue(
            address,
            _l("Einladung zur Organisation %(name)s im Stadtportal", name=organisation.name),
            "organisation_invitation",
            language=invitee.language if invitee is not None else user.language,
            organisation_name=organisation.name,
            inviter_name=user.display_name or user.email,
            link=external_url("accounts.invitation", token=raw),
            days=INVITATION_DAYS,
        )
        audit.record(
            "invitation.created",
            actor,
            target=invitation,
            subject_user_id=invitee.id if invitee else None,
            kind="organisation",
            email=address,
            organisation_id=organisation.id,
        )
    return invitation


def withdraw_invitation(actor: Actor, organisation_id: int, invitation_id: int) -> Invitation:
    """The owner withdraws an open invitation: its link stops working at once (invitation.revoked)."""
    organisation = _require_owner(actor, organisation_id).organisation
    with transaction():
        invitation = db.session.get(Invitation, invitation_id)
        if invitation is None or invitation.kind != "organisation" or invitation.organisation_id != organisation.id:
            raise NotAllowedError(_("Diese Einladung gibt es nicht."))
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise AccountError(_("Diese Einladung ist nicht mehr offen."))
        invitation.revoked_at = utcnow()
        audit.record(
            "invitation.revoked",
            actor,
            target=invitation,
            kind="organisation",
            email=invitation.email,
            organisation_id=organisation.id,
        )
    return invitation


def remove_member(actor: Actor, organisation_id: int, member_id: int) -> None:
    """The owner removes a member (or a member leaves). The last owner cannot go."""
    user = _user(actor)
    own = get_organisation(actor, organisation_id)
    with transaction():
        member = db.session.get(OrganisationMember, member_id)
        if member is None or member.organisation_id != organisation_id:
            raise NotAllowedError(_("Dieses Mitglied gibt es nicht."))
        if member.user_id != user.id and own.role != "owner":
            raise NotAllowedError(_("Nur Inhaberinnen und Inhaber der Organisation dürfen das."))
        if member.role == "owner":
            owners = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OrganisationMember)
                .where(OrganisationMember.organisation_id == organisation_id, OrganisationMember.role == "owner")
            )
            if (owners or 0) <= 1:
                raise AccountError(_("Die letzte Inhaberin oder der letzte Inhaber kann nicht entfernt werden."))
        removed_user_id = member.user_id
        db.session.delete(member)
        audit.record(
            "organisation.member_removed",
            actor,
            target=own.organisation,
            subject_user_id=removed_user_id,
            user_id=removed_user_id,
        )


def transfer_ownership(actor: Actor, organisation_id: int, member_id: int) -> OrganisationMember:
    """The owner makes another member the owner and becomes a plain member; the business is never ownerless."""
    user = _user(actor)
    own = _require_owner(actor, organisation_id)
    with transaction():
        member = db.session.get(OrganisationMember, member_id)
        if member is None or member.organisation_id != organisation_id:
            raise NotAllowedError(_("Dieses Mitglied gibt es nicht."))
        if member.user_id == user.id or member.role == "owner":
            raise AccountError(_("Diese Person ist bereits Inhaberin oder Inhaber."))
        mine = _membership(user.id, organisation_id)
        assert mine is not None  # _require_owner found it
        member.role = "owner"
        mine.role = "member"
        audit.record(
            "organisation.ownership_transferred",
            actor,
            target=own.organisation,
            subject_user_id=member.user_id,
            user_id=member.user_id,
        )
    return member


def sole_owned_organisations(user_id: int) -> list[Organisation]:
    """The businesses `user_id` owns alone: they would be left without an owner if that account went."""
    owners = (
        sa.select(OrganisationMember.organisation_id)
        .where(OrganisationMember.role == "owner")
        .group_by(OrganisationMember.organisation_id)
        .having(sa.func.count() == 1)
    )
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .join(OrganisationMember)
            .where(
                OrganisationMember.user_id == user_id,
                OrganisationMember.role == "owner",
                Organisation.id.in_(owners),
            )
            .order_by(Organisation.name)
        )
    )


def acting_organisation() -> Organisation | None:
    """The organisation the signed-in person acts for (for the page header), or None."""
    organisation_id = acting_organisation_id()
    return db.session.get(Organisation, organisation_id) if organisation_id is not None else None


def acting_organisation_id() -> int | None:
    """The organisation the signed-in person currently acts for, if they are (still) a member of it."""
    from flask import has_request_context
    from flask_login import current_user

    if not has_request_context() or not current_user.is_authenticated:
        return None
    chosen = session.get(ACTING_KEY)
    if not isinstance(chosen, int):
        return None
    if _membership(current_user.id, chosen) is None:
        session.pop(ACTING_KEY, None)
        return None
    return chosen


def set_acting_organisation(actor: Actor, organisation_id: int | None) -> Organisation | None:
    """Act for a business from now on (or, with None, for oneself again)."""
    user = _user(actor)
    organisation = None
    if organisation_id is not None:
        organisation = get_organisation(actor, organisation_id).organisation
    with transaction():
        audit.record(
            "organisation.acting_changed",
            actor,
            target=organisation,
            subject_user_id=user.id,
            organisation_id=organisation_id,
        )
    if organisation_id is None:
        session.pop(ACTING_KEY, None)
    else:
        session[ACTING_KEY] = organisation_id
    return organisation
