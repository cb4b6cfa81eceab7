"""Mein Konto: profile fields, signed-in sessions, the data export and deleting (pseudonymising) the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal import gdpr
from portal.accounts import sessions
from portal.accounts.models import (
    EmailToken,
    Invitation,
    OidcIdentity,
    Organisation,
    OrganisationMember,
    RecoveryCode,
    User,
    UserSession,
)
from portal.accounts.passwords import verify_password
from portal.accounts.services.common import AccountError, NotAllowedError
from portal.accounts.services.organisations import sole_owned_organisations
from portal.actors import Actor
from portal.audit import services as audit
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

EXPORT_FORMATS = ("json", "csv", "html", "pdf")


def export_data(actor: Actor, format: str = "json") -> dict[str, Any]:
    """Everything the portal holds about the actor, as plain JSON-ready data (GDPR Art. 15 and 20).

    The core's sections are top-level keys (as before the services had sections); each service's data sits
    under "services" → its name. `format` only says, for the audit trail, how the person got their copy.
    """
    user = _user(actor)
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r}")
    with transaction():
        audit.record("account.data_exported", actor, target=user, subject_user_id=user.id, format=format)
        return {"format": EXPORT_FORMAT, "exported_at": utcnow().isoformat(), **gdpr.collect(user)}


@dataclass(frozen=True)
class ExportSummary:
    exported_at: datetime
    sections: list[gdpr.SummarySection]


def export_summary(actor: Actor, format: str = "html") -> ExportSummary:
    """The same data as export_data, as readable sections with headings (for the page and the PDF)."""
    data = export_data(actor, format)
    return ExportSummary(datetime.fromisoformat(data["exported_at"]), gdpr.summarise(data))


def export_pdf(actor: Actor, language: str = "de") -> bytes:
    """The readable summary as a PDF in `language` (the texts come from the current locale)."""
    from portal.pdf import Document, Heading, Paragraph, render_pdf

    summary = export_summary(actor, "pdf")
    blocks: list[Any] = [
        Paragraph(
            _(
                "Diese Übersicht enthält alle Daten, die das Stadtportal zu Ihrem Konto gespeichert hat. "
                "Dieselben Daten erhalten Sie unter „Meine Daten“ auch maschinenlesbar als JSON-Datei."
            )
        )
    ]
    for section in summary.sections:
        blocks.append(Heading(section.title))
        blocks.extend(section.blocks)
    document = Document(
        title=_("Meine Daten im Stadtportal"),
        language=language if language in ("de", "en") else "de",
        subject=_("Auskunft nach Art. 15 DSGVO"),
        blocks=blocks,
        generated_at=summary.exported_at,
    )
    return render_pdf(document)


# --- deletion ---------------------------------------------------------------------------------------------


class SoleOwnerError(AccountError):
    """The account is the only owner of businesses, which would be left without anyone to act for them."""

    def __init__(self, message: object, organisations: list[Organisation]) -> None:
        super().__init__(message)
        self.organisations = organisations


def deletion_preview(actor: Actor) -> list[str]:
    """What deleting the account will do in the services (open appointments cancelled, ...), said beforehand."""
    return gdpr.erasure_preview(_user(actor))


def delete_account(actor: Actor, password: str | None) -> list[str]:
    """Delete the account by pseudonymising it; returns what the services did (one sentence each).

    The audit trail is append-only and kept for the periods the law sets, so its events stay and keep pointing
    at the (now anonymous) account id; everything that identifies the person on the account itself goes.
    Every registered erasure handler (portal.gdpr) runs in the same transaction, first, while the account still
    has its email address: if one fails, nothing is deleted at all. Refused while the account is the only
    owner of a business (SoleOwnerError names them).
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
        outcomes = gdpr.erase(actor, user)
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
        audit.record(
            "account.deleted",
            actor,
            target=user,
            subject_user_id=user.id,
            erased={name: outcome.details for name, outcome in outcomes.items() if outcome.details},
        )
        sessions.end_session(user)
    gdpr.run_after_commit(outcomes)
    return [outcome.description for outcome in outcomes.values() if outcome.description]


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
