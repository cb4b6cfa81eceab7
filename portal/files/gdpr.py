"""The files part's place in "Meine Daten" and in account deletion."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.files.services import discard_files_of_user, files_of_user
from portal.gdpr import ErasureOutcome, register_core_erasure_handler, register_core_section


def _collect(user: Any) -> list[dict[str, Any]]:
    return files_of_user(user.id)


def _preview(user: Any) -> list[str]:
    count = len(files_of_user(user.id))
    if not count:
        return []
    return [
        ngettext(
            "%(num)s hochgeladene Datei wird gelöscht. Dateien, die Sie für ein Unternehmen hochgeladen haben, "
            "bleiben beim Unternehmen.",
            "%(num)s hochgeladene Dateien werden gelöscht. Dateien, die Sie für ein Unternehmen hochgeladen haben, "
            "bleiben beim Unternehmen.",
            count,
        )
    ]


def _erase(actor: Any, user: Any) -> ErasureOutcome:
    count = discard_files_of_user(actor, user.id)
    return ErasureOutcome(
        ngettext("%(num)s Datei gelöscht.", "%(num)s Dateien gelöscht.", count) if count else "",
        details={"files_deleted": count},
    )


def register() -> None:
    register_core_section("files", _l("Hochgeladene Dateien"), _collect, order=150)
    register_core_erasure_handler("files", _erase, _preview, order=150)
