"""Staff and their roles: invitations by mail, direct grants to existing accounts, revocations.

Department roles are managed by platform_admin or that department's department_admin; global roles
(moderator, treasury, dpo, platform_admin) by platform_admin only. The last platform_admin keeps the role.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from portal.accounts.models import DepartmentMembership, Invitation, User, UserRole
from portal.actors import Actor
from portal.admin.services import (
    PLATFORM_ADMIN,
    AdminError,
    clean,
    department_roles,
    global_roles,
    load_department,
    require_department,
    require_platform_admin,
    role_labels,
)
from portal.audit import services as audit
from portal.departments.models import Department
from portal.extensions import db
from portal.mail.services import enqueue
from portal.timeutil import utcnow
from portal.transaction import transaction

INVITATION_DAYS = 7


@dataclass
class StaffRow:
    user: User
    roles: list[str] = field(default_factory=list)


def _require_scope(actor: Actor, role: str, department_id: int | None) -> None:
    """Is `role` a role of the right kind, and may the actor hand it out there?"""
    if role in global_roles():
        require_platform_admin(actor)
        if department_id is not None:
            raise AdminError(_l("Globale Rollen gelten für kein einzelnes Amt."), "role")
    elif role in department_roles():
        if department_id is None:
            raise AdminError(_l("Wählen Sie das Amt für diese Rolle."), "role")
        require_department(actor, department_id)
    else:
        raise AdminError(_l("Wählen Sie eine Rolle aus der Liste."), "role")


def _normalise_email(email: str) -> str:
    address = clean(email).lower()
    if "@" not in address:
        raise AdminError(_l("Geben Sie eine E-Mail-Adresse ein, z. B. name@stadt.example."), "email")
    return address


def staff_of(actor: Actor, department_id: int) -> tuple[Department, list[StaffRow]]:
    """The department's staff with their roles in it."""
    require_department(actor, department_id)
    department = load_department(department_id)
    rows: dict[int, StaffRow] = {}
    memberships = db.session.scalars(
        sa.select(DepartmentMembership)
        .join(User, User.id == DepartmentMembership.user_id)
        .where(DepartmentMembership.department_id == department_id, User.deleted_at.is_(None))
        .order_by(User.email, DepartmentMembership.role)
    )
    for membership in memberships:
        rows.setdefault(membership.user_id, StaffRow(membership.user)).roles.append(membership.role)
    return department, list(rows.values())


def global_staff(actor: Actor) -> list[StaffRow]:
    require_platform_admin(actor)
    users = db.session.scalars(
        sa.select(User)
        .where(User.deleted_at.is_(None), User.roles.any())
        .options(selectinload(User.roles))
        .order_by(User.email)
    )
    return [StaffRow(user, sorted(r.role for r in user.roles)) for user in users]


def pending_invitations(actor: Actor, department_id: int | None = None) -> list[Invitation]:
    """Open staff invitations of a department (or, with None, for global roles)."""
    if department_id is None:
        require_platform_admin(actor)
    else:
        require_department(actor, department_id)
    query = sa.select(Invitation).where(
        Invitation.kind == "staff",
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow(),
    )
    if department_id is None:
        query = query.where(Invitation.department_id.is_(None))
    else:
        query = query.where(Invitation.department_id == department_id)
    return list(db.session.scalars(query.order_by(Invitation.created_at.desc())))


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invite_staff(actor: Actor, email: str, role: str, department_id: int | None = None) -> Invitation:
    """Invite a person by mail to take `role` (in `department_id`); the link is valid for seven days."""
    _require_scope(actor, role, department_id)
    address = _normalise_email(email)
    assert actor.user is not None
    with transaction():
        department = load_department(department_id) if department_id is not None else None
        open_one = db.session.scalar(
            sa.select(Invitation.id).where(
                Invitation.kind == "staff",
                sa.func.lower(Invitation.email) == address,
                Invitation.role == role,
                Invitation.department_id.is_(None)
                if department_id is None
                else Invitation.department_id == department_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        )
        if open_one is not None:
            raise AdminError(_l("Diese Person ist für diese Rolle bereits eingeladen."), "email")
        existing = db.session.scalar(
            sa.select(User).where(sa.func.lower(User.email) == address, User.deleted_at.is_(None))
        )
        if existing is not None and existing.has_role(role, department_id):
            raise AdminError(_l("Dieses Konto hat die Rolle bereits."), "email")
        raw = secrets.token_urlsafe(32)
        invitation = Invitation(
            kind="staff",
            email=address,
            token_hash=hash_token(raw),
            department_id=department_id,
            role=role,
            invited_by_id=actor.user.id,
            expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
        )
        db.session.add(invitation)
        audit.record(
            "invitation.created",
            actor,
            target=invitation,
            kind="staff",
            email=address,
            role=role,
            department_id=department_id,
        )
        enqueue(
            address,
            _l("Einladung zur Mitarbeit im Stadtportal"),
            "staff_invitation",
            link=f"{current_app.config['BASE_URL'].rstrip('/')}/einladung/{raw}",
            role_label=role_labels()[role],  # lazy: rendered in the mail's language
            department_name=department.name if department else None,
            inviter=actor.user.display_name or actor.user.email,
            expires_at=invitation.expires_at,
        )
    return invitation


def revoke_invitation(actor: Actor, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.kind != "staff":
        raise NotFound()
    if invitation.department_id is None:
        require_platform_admin(actor)
    else:
        require_department(actor, invitation.department_id)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise AdminError(_l("Diese Einladung ist nicht mehr offen."))
    with transaction():
        invitation.revoked_at = utcnow()
        audit.record(
            "invitation.revoked",
            actor,
            target=invitation,
            kind="staff",
            email=invitation.email,
            role=invitation.role,
            department_id=invitation.department_id,
        )
    return invitation


def grant_role(actor: Actor, email: str, role: str, department_id: int | None = None) -> User:
    """Give an existing account a role directly (no invitation); audited as role.granted."""
    _require_scope(actor, role, department_id)
    address = _normalise_email(email)
    with transaction():
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == address, User.deleted_at.is_(None)))
        if user is None:
            raise AdminError(
                _l("Es gibt kein Konto mit dieser Adresse. Laden Sie die Person stattdessen ein."), "email"
            )
        if user.has_role(role, department_id):
            raise AdminError(_l("Dieses Konto hat die Rolle bereits."), "role")
        if department_id is None:
            user.roles.append(UserRole(role=role))
        else:
            load_department(department_id)
            user.memberships.append(DepartmentMembership(department_id=department_id, role=role))
        audit.record(
            "role.granted", actor, target=user, subject_user_id=user.id, role=role, department_id=department_id
        )
    return user


def _platform_admins_locked() -> list[UserRole]:
    # Locks the rows on PostgreSQL so two admins demoting each other at once cannot both succeed.
    return list(
        db.session.scalars(
            sa.select(UserRole)
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role == PLATFORM_ADMIN, User.deleted_at.is_(None))
            .with_for_update(of=UserRole)
        )
    )


def revoke_role(actor: Actor, user_id: int, role: str, department_id: int | None = None) -> User:
    """Take a role away; the last platform_admin cannot lose theirs."""
    _require_scope(actor, role, department_id)
    with transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound()
        if department_id is None:
            roles = [r for r in user.roles if r.role == role]
            if roles and role == PLATFORM_ADMIN and len(_platform_admins_locked()) <= 1:
                raise AdminError(_l("Das ist die letzte Plattform-Administration; die Rolle bleibt."))
            for row in roles:
                user.roles.remove(row)
            found = bool(roles)
        else:
            memberships = [m for m in user.memberships if m.role == role and m.department_id == department_id]
            for membership in memberships:
                user.memberships.remove(membership)
            found = bool(memberships)
        if not found:
            raise AdminError(_l("Dieses Konto hat die Rolle nicht."))
        audit.record(
            "role.revoked", actor, target=user, subject_user_id=user.id, role=role, department_id=department_id
        )
    return user
