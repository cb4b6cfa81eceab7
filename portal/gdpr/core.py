"""The account's own data as export sections: account, roles, memberships, organisations, sessions, linked
identities and the audit events about the person. Registered once at import (see portal.gdpr).

The JSON keys are those of the export before the GDPR hooks existed ("stadtportal-account-export/1"), so
anyone who processed that file can still process it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import DepartmentMembership, OidcIdentity, OrganisationMember, User, UserRole, UserSession
from portal.audit import sequencer
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.gdpr import register_core_section, text, when
from portal.pdf import Block, KeyValues, Table


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _rows(model: Any, *where: Any) -> list[Any]:
    return list(db.session.scalars(sa.select(model).where(*where)))


def account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "language": user.language,
        "created_at": iso(user.created_at),
        "email_verified_at": iso(user.email_verified_at),
        "two_factor_enabled_at": iso(user.totp_enabled_at),
    }


def account_summary(data: dict[str, Any]) -> list[Block]:
    return [
        KeyValues(
            [
                (_("Kontonummer"), str(data["id"])),
                (_("E-Mail-Adresse"), data["email"]),
                (_("Name"), text(data["display_name"])),
                (_("Sprache"), {"de": _("Deutsch"), "en": _("Englisch")}.get(data["language"], data["language"])),
                (_("Registriert am"), when(data["created_at"])),
                (_("E-Mail-Adresse bestätigt am"), when(data["email_verified_at"])),
                (_("Zwei-Faktor-Authentisierung seit"), when(data["two_factor_enabled_at"])),
            ]
        )
    ]


def roles(user: User) -> list[dict[str, Any]]:
    return [{"role": r.role, "granted_at": iso(r.granted_at)} for r in _rows(UserRole, UserRole.user_id == user.id)]


def roles_summary(data: list[dict[str, Any]]) -> list[Block]:
    if not data:
        return []
    return [Table([_("Rolle"), _("Erteilt am")], [[r["role"], when(r["granted_at"])] for r in data])]


def department_memberships(user: User) -> list[dict[str, Any]]:
    return [
        {
            "department_id": m.department_id,
            "department": m.department.name if m.department else None,
            "role": m.role,
            "granted_at": iso(m.granted_at),
        }
        for m in _rows(DepartmentMembership, DepartmentMembership.user_id == user.id)
    ]


def department_memberships_summary(data: list[dict[str, Any]]) -> list[Block]:
    if not data:
        return []
    return [
        Table(
            [_("Amt"), _("Rolle"), _("Erteilt am")],
            [[text(m["department"]), m["role"], when(m["granted_at"])] for m in data],
        )
    ]


def organisations(user: User) -> list[dict[str, Any]]:
    return [
        {
            "organisation_id": m.organisation_id,
            "name": m.organisation.name,
            "register_number": m.organisation.register_number,
            "role": m.role,
            "joined_at": iso(m.joined_at),
        }
        for m in _rows(OrganisationMember, OrganisationMember.user_id == user.id)
    ]


def organisations_summary(data: list[dict[str, Any]]) -> list[Block]:
    if not data:
        return []
    return [
        Table(
            [_("Organisation"), _("Registernummer"), _("Rolle"), _("Mitglied seit")],
            [
                [
                    o["name"],
                    text(o["register_number"]),
                    _("Inhaber/in") if o["role"] == "owner" else _("Mitglied"),
                    when(o["joined_at"]),
                ]
                for o in data
            ],
            widths=[3, 2, 1.5, 2],
        )
    ]


def sessions(user: User) -> list[dict[str, Any]]:
    return [
        {
            "created_at": iso(s.created_at),
            "last_seen_at": iso(s.last_seen_at),
            "ip": s.ip,
            "user_agent": s.user_agent,
            "method": s.method,
            "revoked_at": iso(s.revoked_at),
        }
        for s in _rows(UserSession, UserSession.user_id == user.id)
    ]


def sessions_summary(data: list[dict[str, Any]]) -> list[Block]:
    from portal.accounts.services.profile import describe_user_agent

    if not data:
        return []
    return [
        Table(
            [_("Angemeldet am"), _("Zuletzt aktiv"), _("Gerät"), _("IP-Adresse"), _("Beendet am")],
            [
                [
                    when(s["created_at"]),
                    when(s["last_seen_at"]),
                    describe_user_agent(s["user_agent"]),
                    text(s["ip"]),
                    when(s["revoked_at"]),
                ]
                for s in data
            ],
        )
    ]


def oidc_identities(user: User) -> list[dict[str, Any]]:
    return [
        {
            "issuer": o.issuer,
            "subject": o.subject,
            "assurance_level": o.assurance_level,
            "linked_at": iso(o.linked_at),
            "last_login_at": iso(o.last_login_at),
        }
        for o in _rows(OidcIdentity, OidcIdentity.user_id == user.id)
    ]


def oidc_identities_summary(data: list[dict[str, Any]]) -> list[Block]:
    if not data:
        return []
    return [
        Table(
            [_("Anbieter"), _("Kennung"), _("Vertrauensniveau"), _("Verknüpft am"), _("Zuletzt angemeldet")],
            [
                [o["issuer"], o["subject"], text(o["assurance_level"]), when(o["linked_at"]), when(o["last_login_at"])]
                for o in data
            ],
        )
    ]


def audit_events(user: User) -> list[dict[str, Any]]:
    sequencer.catch_up()  # with the export's own event, which is chained in the export's transaction
    events = _rows(AuditEvent, AuditEvent.subject_user_id == user.id)
    return [
        {
            "seq": e.seq,
            "occurred_at": iso(e.occurred_at),
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
    ]


def audit_events_summary(data: list[dict[str, Any]]) -> list[Block]:
    from portal.audit.queries import OUTCOME_TEXTS, action_text

    if not data:
        return []
    actors = {
        "self": _("Sie selbst"),
        "system": _("automatisch"),
        "anonymous": _("über einen Link"),
        "client": _("ein Fachverfahren (API)"),
    }
    return [
        Table(
            [_("Zeitpunkt"), _("Vorgang"), _("Durch"), _("Ergebnis")],
            [
                [
                    when(e["occurred_at"]),
                    str(action_text(e["action"])),
                    str(actors.get(e["actor"], _("die Verwaltung"))),
                    str(OUTCOME_TEXTS.get(e["outcome"], e["outcome"])),
                ]
                for e in data
            ],
            widths=[2, 4, 1.6, 1.4],
        )
    ]


register_core_section("account", _l("Ihr Konto"), account, account_summary, order=10)
register_core_section("roles", _l("Rollen"), roles, roles_summary, order=20)
register_core_section(
    "department_memberships",
    _l("Mitarbeit in Ämtern"),
    department_memberships,
    department_memberships_summary,
    order=30,
)
register_core_section("organisations", _l("Organisationen"), organisations, organisations_summary, order=40)
register_core_section("sessions", _l("Angemeldete Sitzungen"), sessions, sessions_summary, order=50)
register_core_section(
    "oidc_identities", _l("Verknüpfte Anmeldungen (z. B. BundID)"), oidc_identities, oidc_identities_summary, order=60
)
# Last of all (after the services, order 500): the log is the longest part and refers to everything above.
register_core_section(
    "audit_events", _l("Protokoll: Vorgänge zu Ihrem Konto"), audit_events, audit_events_summary, order=900
)
