"""Mein Konto: profile fields, signed-in sessions, the data export and deleting (pseudonymising) the account."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts import sessions
from portal.accounts.models import (
    DepartmentMembership,
    EmailToken,
    Invitation,
    OidcIdentity,
    Organisation,
    OrganisationMember,
    RecoveryCode,
    User,
    UserRole,
    UserSession,
)
from portal.accounts.passwords import verify_password
from portal.accounts.services.common import AccountError, NotAllowedError
from portal.accounts.services.organisations import sole_owned_organisations
from portal.actors import Actor
from portal.audit import services as audit
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

EXPORT_FORMAT = "stadtportal-account-export/1"


def _user(actor: Actor) -> User:
    if actor.user is None:
        raise NotAllowedError(_("Bitte melden Sie sich an."))
    return actor.user


def update_profile(actor: Actor, display_name: str, language: str) -> list[str]:
    """Change name and language; returns the names of the fields that changed (nothing changed: no event)."""
    user = _user(actor)
    if language not in ("de", "en"):
        raise AccountError(_("Bitte wählen Sie eine angebotene Sprache."))
    changes = {"display_name": display_name.strip(), "language": language}
    changed = sorted(name for name, value in changes.items() if getattr(user, name) != value)
    if not changed:
        return []
    with transaction():
        for name in changed:
            setattr(user, name, changes[name])
        audit.record("account.profile_updated", actor, target=user, subject_user_id=user.id, fields=changed)
    return changed


# --- sessions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    id: int
    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    browser: str
    method: str
    current: bool


def describe_user_agent(user_agent: str | None) -> str:
    """A rough "Firefox on Linux" from the User-Agent header, good enough to recognise one's own devices."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chromium/", "Chromium"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iPadOS"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    if browser and system:
        return _("%(browser)s unter %(system)s", browser=browser, system=system)
    return browser or system or (ua[:60] if ua else _("unbekannt"))


def list_sessions(actor: Actor) -> list[SessionView]:
    """The actor's active sessions, this browser first."""
    user = _user(actor)
    current = sessions.current_session_row(user)
    rows = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    )
    views = [
        SessionView(
            id=row.id,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            ip=row.ip,
            browser=describe_user_agent(row.user_agent),
            method=row.method,
            current=current is not None and row.id == current.id,
        )
        for row in rows
    ]
    return sorted(views, key=lambda v: not v.current)


def revoke_session(actor: Actor, session_id: int) -> None:
    """Sign one of the actor's other browsers out."""
    user = _user(actor)
    with transaction():
        row = db.session.get(UserSession, session_id)
        if row is None or row.user_id != user.id:
            raise NotAllowedError(_("Diese Sitzung gibt es nicht."))
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record("account.session_revoked", actor, target=row, subject_user_id=user.id, session_id=row.id)


def revoke_other_sessions(actor: Actor) -> int:
    """Sign out every browser but this one; returns how many were signed out."""
    user = _user(actor)
    current = sessions.current_session_row(user)
    with transaction():
        rows = list(
            db.session.scalars(
                sa.select(UserSession).where(
                    UserSession.user_id == user.id,
                    UserSession.revoked_at.is_(None),
                    UserSession.id != (current.id if current else -1),
                )
            )
        )
        now = utcnow()
        for row in rows:
            row.revoked_at = now
            audit.record("account.session_revoked", actor, target=row, subject_user_id=user.id, session_id=row.id)
    return len(rows)


# --- export -----------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_data(actor: Actor) -> dict[str, Any]:
    """Everything the portal's core holds about the actor, as plain JSON-ready data (GDPR Art. 15 and 20)."""
    user = _user(actor)
    with transaction():
        audit.record("account.data_exported", actor, target=user, subject_user_id=user.id)
        return _collect(user)


def _collect(user: User) -> dict[str, Any]:
    def rows(model: Any, *where: Any) -> list[Any]:
        return list(db.session.scalars(sa.select(model).where(*where)))

    events = rows(AuditEvent, AuditEvent.subject_user_id == user.id)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "language": user.language,
            "created_at": _iso(user.created_at),
            "email_verified_at": _iso(user.email_verified_at),
            "two_factor_enabled_at": _iso(user.totp_enabled_at),
        },
        "roles": [
            {"role": r.role, "granted_at": _iso(r.granted_at)} for r in rows(UserRole, UserRole.user_id == user.id)
        ],
        "department_memberships": [
            {
                "department_id": m.department_id,
                "department": m.department.name if m.department else None,
                "role": m.role,
                "granted_at": _iso(m.granted_at),
            }
            for m in rows(DepartmentMembership, DepartmentMembership.user_id == user.id)
        ],
        "organisations": [
            {
                "organisation_id": m.organisation_id,
                "name": m.organisation.name,
                "register_number": m.organisation.register_number,
                "role": m.role,
                "joined_at": _iso(m.joined_at),
            }
            for m in rows(OrganisationMember, OrganisationMember.user_id == user.id)
        ],
        "sessions": [
            {
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "method": s.method,
                "revoked_at": _iso(s.revoked_at),
            }
            for s in rows(UserSession, UserSession.user_id == user.id)
        ],
        "oidc_identities": [
            {
                "issuer": o.issuer,
                "subject": o.subject,
                "assurance_level": o.assurance_level,
                "linked_at": _iso(o.linked_at),
                "last_login_at": _iso(o.last_login_at),
            }
            for o in rows(OidcIdentity, OidcIdentity.user_id == user.id)
        ],
        "audit_events": [
            {
                "seq": e.seq,
                "occurred_at": _iso(e.occurred_at),
                "action": e.action,
                "outcome": e.outcome,
                "actor": "self" if e.actor_id == str(user.id) else e.actor_type,
                "on_behalf_of": e.on_behalf_of,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "details": json.loads(e.details),
                "ip": e.ip,
            }
            for e in sorted(events, key=lambda e: e.seq)
        ],
    }


# --- deletion ---------------------------------------------------------------------------------------------


class SoleOwnerError(AccountError):
    """The account is the only owner of businesses, which would be left without anyone to act for them."""

    def __init__(self, message: object, organisations: list[Organisation]) -> None:
        super().__init__(message)
        self.organisations = organisations


def delete_account(actor: Actor, password: str | None) -> None:
    """Delete the account by pseudonymising it.

    The audit trail is append-only and kept for the periods the law sets, so its events stay and keep pointing
    at the (now anonymous) account id; everything that identifies the person on the account itself goes.
    Refused while the account is the only owner of a business (SoleOwnerError names them).
    """
    user = _user(actor)
    owned = sole_owned_organisations(user.id)
    if owned:
        raise SoleOwnerError(
            _(
                "Sie sind die einzige Inhaberin bzw. der einzige Inhaber von: %(names)s. Übertragen Sie die "
                "Inhaberschaft zuerst auf der Seite der Organisation an ein anderes Mitglied. Hat die Organisation "
                "keine weiteren Mitglieder, laden Sie zuerst jemanden ein oder bitten Sie die Stadtverwaltung, die "
                "Organisation aufzulösen.",
                names=", ".join(o.name for o in owned),
            ),
            owned,
        )
    if user.password_hash and not verify_password(user.password_hash, password or ""):
        raise AccountError(_("Das Passwort ist nicht richtig."))
    with transaction():
        for role in list(user.roles):
            audit.record("role.revoked", actor, target=user, subject_user_id=user.id, role=role.role)
        for membership in list(user.memberships):
            audit.record(
                "role.revoked",
                actor,
                target=user,
                subject_user_id=user.id,
                role=membership.role,
                department_id=membership.department_id,
            )
        user.roles.clear()
        user.memberships.clear()
        for model in (OrganisationMember, OidcIdentity, RecoveryCode, EmailToken):
            db.session.execute(sa.delete(model).where(model.user_id == user.id))
        db.session.execute(
            sa.update(Invitation)
            .where(sa.func.lower(Invitation.email) == user.email.lower(), Invitation.accepted_at.is_(None))
            .values(revoked_at=utcnow())
        )
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        user.email = f"deleted-{user.id}@invalid"
        user.display_name = ""
        user.password_hash = None
        user.totp_secret = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        user.deleted_at = utcnow()
        audit.record("account.deleted", actor, target=user, subject_user_id=user.id)
        sessions.end_session(user)


@dataclass(frozen=True)
class SecurityStatus:
    two_factor_enabled: bool
    two_factor_required: bool
    recovery_codes_left: int
    has_password: bool
    sessions: list[SessionView]


def security_status(actor: Actor) -> SecurityStatus:
    """What Mein Konto → Sicherheit shows."""
    from portal.accounts.services.totp import remaining_recovery_codes

    user = _user(actor)
    return SecurityStatus(
        two_factor_enabled=user.totp_enabled_at is not None,
        two_factor_required=user.is_staff,
        recovery_codes_left=remaining_recovery_codes(user) if user.totp_enabled_at else 0,
        has_password=user.password_hash is not None,
        sessions=list_sessions(actor),
    )
