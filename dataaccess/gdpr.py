"""Data access's part of "Meine Daten" and of deleting an account (the GDPR hooks of portal.gdpr).

Export: every access-log entry about the person (granted and refused, with department, dataset, fields,
purpose, legal basis, case reference and the audit event's seq) and every once-only request they made.

Erasure: open requests (standing, or one-off not yet used) are revoked, so no department can fetch the person's
data on their say-so any more. The access-log entries are kept: they are the record of lawful processing that
the city must be able to show (Art. 5 Abs. 2 and Art. 30 DSGVO) and a part of the hash-chained audit trail,
which is never changed. They name the account by its id only; the deletion pseudonymises the account itself.
The deletion page says so beforehand.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from dataaccess.models import AccessLog, CitizenRequest
from dataaccess.services import citizen_log
from portal.extensions import db
from portal.gdpr import ErasureOutcome, register_erasure_handler, register_export_section, text, when
from portal.pdf import Block, Heading, KeyValues, Paragraph
from portal.timeutil import utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.actors import Actor


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def collect(user: User) -> dict[str, Any]:
    entries = []
    for entry in citizen_log.all_entries_of(user.id):
        data = entry.as_json()
        data["occurred_at"] = _iso(entry.occurred_at)
        entries.append(data)
    requests = []
    for request in citizen_log.all_requests_of(user.id):
        requests.append({k: _iso(v) if isinstance(v, datetime) else v for k, v in request.items()})
    return {"accesses": entries, "requests": requests}


def summary(data: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = []
    accesses = data.get("accesses") or []
    blocks.append(Heading(_("Zugriffe auf Ihre Daten"), level=3))
    if not accesses:
        blocks.append(Paragraph(_("Kein Amt hat Daten über Sie bei einem anderen Amt abgerufen.")))
    for entry in accesses:
        blocks.append(
            KeyValues(
                [
                    (_("Zeitpunkt"), when(entry["occurred_at"])),
                    (_("Ergebnis"), entry["outcome_text"]),
                    (_("Abrufendes Amt"), text(entry["department"])),
                    (_("Daten von"), text(entry["owner_department"])),
                    (_("Datenbestand"), text(entry["dataset"])),
                    (_("Angaben"), text([f["label"] for f in entry["fields"]])),
                    (_("Zweck"), text(entry["purpose"])),
                    (_("Rechtsgrundlage"), text(entry["legal_basis"])),
                    (_("Aktenzeichen"), text(entry["case_reference"])),
                    (_("Protokolleintrag"), str(entry["audit_seq"] or "–")),
                ]
            )
        )
    requests = data.get("requests") or []
    if requests:
        blocks.append(Heading(_("Ihre Anträge auf Datenabruf"), level=3))
        for request in requests:
            blocks.append(
                KeyValues(
                    [
                        (_("Abrufendes Amt"), text(request["department"])),
                        (_("Datenbestand"), text(request["dataset"])),
                        (_("Zweck"), text(request["purpose"])),
                        (_("Dauerhaft"), text(request["standing"])),
                        (_("Beantragt am"), when(request["created_at"])),
                        (_("Verwendet am"), when(request["used_at"])),
                        (_("Widerrufen am"), when(request["revoked_at"])),
                    ]
                )
            )
    return blocks


def _open_requests(user_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        CitizenRequest.user_id == user_id, CitizenRequest.revoked_at.is_(None), CitizenRequest.used_at.is_(None)
    )


def _log_count(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(AccessLog.subject_user_id == user_id)) or 0


def preview(user: User) -> list[str]:
    lines = []
    open_count = db.session.scalar(sa.select(sa.func.count(CitizenRequest.id)).where(_open_requests(user.id))) or 0
    if open_count:
        lines.append(
            ngettext(
                "Ihr offener Antrag auf Datenabruf wird widerrufen.",
                "Ihre %(num)d offenen Anträge auf Datenabruf werden widerrufen.",
                open_count,
            )
        )
    kept = _log_count(user.id)
    if kept:
        lines.append(
            ngettext(
                "%(num)d Eintrag über einen Zugriff auf Ihre Daten bleibt erhalten: Er belegt, dass Ihre Daten "
                "rechtmäßig verarbeitet wurden, und ist Teil des unveränderlichen Protokolls.",
                "%(num)d Einträge über Zugriffe auf Ihre Daten bleiben erhalten: Sie belegen, dass Ihre Daten "
                "rechtmäßig verarbeitet wurden, und sind Teil des unveränderlichen Protokolls.",
                kept,
            )
        )
    return lines


def erase(actor: Actor, user: User) -> ErasureOutcome:
    """Revoke the person's open requests in the deletion's transaction; the access log stays."""
    result = db.session.execute(
        sa.update(CitizenRequest)
        .where(_open_requests(user.id))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    revoked = result.rowcount or 0  # type: ignore[attr-defined]
    kept = _log_count(user.id)
    parts = []
    if revoked:
        parts.append(ngettext("%(num)d Antrag widerrufen", "%(num)d Anträge widerrufen", revoked))
    if kept:
        parts.append(
            ngettext("%(num)d Protokolleintrag bleibt erhalten", "%(num)d Protokolleinträge bleiben erhalten", kept)
        )
    return ErasureOutcome(
        description=_("Datenzugriffe: %(what)s.", what=", ".join(parts)) if parts else "",
        details={"requests_revoked": revoked, "access_log_kept": kept} if parts else {},
    )


def register(app: Flask) -> None:
    register_export_section(app, "dataaccess", _l("Datenzugriffe zwischen Ämtern"), collect, summary)
    register_erasure_handler(app, "dataaccess", erase, preview)
