"""How the clerk's case history names each audit event: a short sentence in the third person, translated, instead
of the action's technical name. The applicant's own log uses the second-person texts in permits.actions;
an action not listed here (another service's, e.g. a consultation) falls back to that text."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.audit.queries import action_text

HISTORY_TEXT: dict[str, Any] = {
    "permits.application_started": _l("Antrag begonnen"),
    "permits.application_saved": _l("Entwurf gespeichert"),
    "permits.application_submitted": _l("Antrag eingereicht"),
    "permits.application_withdrawn": _l("Antrag zurückgezogen"),
    "permits.application_moved": _l("Bearbeitungsstand geändert"),
    "permits.formal_check_passed": _l("Formelle Prüfung abgeschlossen"),
    "permits.documents_requested": _l("Unterlagen nachgefordert"),
    "permits.application_granted": _l("Erlaubnis erteilt"),
    "permits.application_refused": _l("Antrag abgelehnt"),
    "permits.fee_notice_issued": _l("Gebührenbescheid erstellt"),
    "permits.fee_paid": _l("Gebühr bezahlt"),
    "permits.permit_activated": _l("Erlaubnis in Kraft"),
    "permits.permit_extended": _l("Erlaubnis verlängert"),
    "permits.permit_ended": _l("Erlaubnis abgelaufen"),
    "permits.extension_started": _l("Verlängerung begonnen"),
    "permits.attachment_removed": _l("Anlage entfernt"),
}


def label(action: str) -> str:
    text = HISTORY_TEXT.get(action)
    return str(text if text is not None else action_text(action))
