"""GDPR hooks: every part of the portal says what it holds about a person and what happens to it on deletion.

A part registers
- an export section: `collector(user)` returns JSON-ready data (GDPR Art. 15/20), and optionally
  `summary(data)` turns that data into blocks (portal.pdf blocks) for the readable HTML/PDF summary;
- an erasure handler: `handler(actor, user)` cancels, pseudonymises or deletes the part's data about the
  person and returns an ErasureOutcome; `preview(user)` says beforehand, in one sentence each, what the
  handler will do, so the deletion page can tell the person before they confirm.

Services register per app from their `register(app)` (register_export_section / register_erasure_handler).
Parts of the core register once at import (register_core_section / register_core_erasure_handler), since the
core is always there; the account's own data (portal.gdpr.core) is registered that way.

Erasure handlers run inside the account deletion's transaction (portal.accounts.services.profile): they must not
commit, and anything they raise rolls the whole deletion back. Work that must wait for the commit (e.g. telling
a waitlist that seats are free) goes into ErasureOutcome.after_commit.

    # in a service's register(app) (appointments/gdpr.py is the worked example)
    register_export_section(app, "permits", _l("Sondernutzung"), collect, summary)   # collect(user) -> JSON data
    register_erasure_handler(app, "permits", erase, preview)   # erase(actor, user) -> ErasureOutcome

    # in a core part, once at import or from its init_app
    register_core_section("files", _l("Ihre Dateien"), files_of, order=150)
    register_core_erasure_handler("files", erase_files, preview_files)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_babel import gettext as _

from portal.pdf import Block, KeyValues, Paragraph, Table
from portal.timeutil import to_berlin

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.actors import Actor

log = logging.getLogger(__name__)

Collector = Callable[["User"], Any]
Summary = Callable[[Any], list[Block]]
Preview = Callable[["User"], list[str]]
# Keys of the JSON export that belong to the export itself, not to a section.
RESERVED_KEYS = frozenset({"format", "exported_at", "services"})
EXTENSION = "stadtportal_gdpr"


@dataclass(frozen=True)
class ExportSection:
    name: str  # the key in the JSON export
    title: Any  # heading in the readable summary (str or lazy string)
    collect: Collector
    summary: Summary | None = None
    order: int = 500
    core: bool = False  # core sections are top-level keys of the JSON; services' sit under "services"


@dataclass
class ErasureOutcome:
    """What a handler did. `description` is shown after the deletion ("Termine: 2 Termine abgesagt.");
    `details` (JSON-ready) go into the "account.deleted" audit event under "erased" → the handler's name."""

    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)


Handler = Callable[["Actor", "User"], ErasureOutcome]


@dataclass(frozen=True)
class ErasureHandler:
    name: str
    erase: Handler
    preview: Preview | None = None
    order: int = 500


@dataclass
class _Registry:
    sections: dict[str, ExportSection] = field(default_factory=dict)
    handlers: dict[str, ErasureHandler] = field(default_factory=dict)


_CORE = _Registry()


def _check_name(name: str) -> None:
    if not name or name in RESERVED_KEYS:
        raise ValueError(f"export section name {name!r} is empty or reserved ({sorted(RESERVED_KEYS)})")


def register_core_section(
    name: str, title: Any, collector: Collector, summary: Summary | None = None, *, order: int = 100
) -> None:
    """A core part's export section (a top-level key of the JSON export). Registering a name again replaces it."""
    _check_name(name)
    _CORE.sections[name] = ExportSection(name, title, collector, summary, order, core=True)


def register_core_erasure_handler(
    name: str, handler: Handler, preview: Preview | None = None, *, order: int = 100
) -> None:
    """A core part's erasure handler; runs before the services' handlers (lower `order` first)."""
    _CORE.handlers[name] = ErasureHandler(name, handler, preview, order)


def _app_registry(app: Flask) -> _Registry:
    registry = app.extensions.get(EXTENSION)
    if registry is None:
        registry = app.extensions[EXTENSION] = _Registry()
    return registry


def register_export_section(
    app: Flask, name: str, title: Any, collector: Collector, summary: Summary | None = None, *, order: int = 500
) -> None:
    """A service's export section: its data appears under "services" → `name` in the JSON export."""
    _check_name(name)
    _app_registry(app).sections[name] = ExportSection(name, title, collector, summary, order)


def register_erasure_handler(
    app: Flask, name: str, handler: Handler, preview: Preview | None = None, *, order: int = 500
) -> None:
    """A service's erasure handler, run inside the account deletion's transaction."""
    _app_registry(app).handlers[name] = ErasureHandler(name, handler, preview, order)


def _load_core() -> None:
    import portal.gdpr.core  # noqa: F401  (registers the account's own sections)


def sections() -> list[ExportSection]:
    """Every export section of the current app by `order` (core parts 1-499 by custom, services 500)."""
    _load_core()
    found = list(_CORE.sections.values()) + list(_app_registry(current_app).sections.values())
    return sorted(found, key=lambda s: (s.order, s.name))


def handlers() -> list[ErasureHandler]:
    _load_core()
    found = list(_CORE.handlers.values()) + list(_app_registry(current_app).handlers.values())
    return sorted(found, key=lambda h: (h.order, h.name))


# --- export ---------------------------------------------------------------------------------------------------


def collect(user: User) -> dict[str, Any]:
    """{section name: data} for the core's sections, plus "services": {name: data}."""
    data: dict[str, Any] = {}
    services: dict[str, Any] = {}
    for section in sections():
        (data if section.core else services)[section.name] = section.collect(user)
    data["services"] = services
    return data


@dataclass(frozen=True)
class SummarySection:
    name: str
    title: str
    blocks: list[Block]


def summarise(data: dict[str, Any]) -> list[SummarySection]:
    """The export as readable sections (for the HTML page and the PDF), from what collect() returned."""
    result = []
    for section in sections():
        value = data.get(section.name) if section.core else data.get("services", {}).get(section.name)
        blocks = section.summary(value) if section.summary is not None else default_summary(value)
        result.append(SummarySection(section.name, str(section.title), blocks or [Paragraph(_("Keine Einträge."))]))
    return result


def default_summary(value: Any) -> list[Block]:
    """A plain rendering for sections without a summary: a dict as label/value rows, a list of dicts as a table."""
    if value in (None, [], {}):
        return []
    if isinstance(value, dict):
        return [KeyValues([(str(key), text(item)) for key, item in value.items()])]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        header = list(dict.fromkeys(key for item in value for key in item))
        return [Table(header, [[text(item.get(key)) for key in header] for item in value])]
    if isinstance(value, list):
        return [Paragraph(text(item)) for item in value]
    return [Paragraph(text(value))]


def text(value: Any) -> str:
    """A JSON value as a person reads it: ISO times in Berlin time, lists joined, nothing as a dash."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("ja") if value else _("nein")
    if isinstance(value, str):
        moment = _parse_time(value)
        return when(moment) if moment is not None else value
    if isinstance(value, list):
        return ", ".join(text(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {text(item)}" for key, item in value.items())
    return str(value)


def when(value: datetime | str | None) -> str:
    """A moment as "30.11.2026, 10:15" in Berlin time (or a dash)."""
    if isinstance(value, str):
        value = _parse_time(value)
    if value is None:
        return "–"
    return to_berlin(value).strftime("%d.%m.%Y, %H:%M")


def _parse_time(value: str) -> datetime | None:
    # Only full ISO timestamps with an offset (what the exports write), so "2026" or a reference stays text.
    if len(value) < 20 or value[4] != "-" or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- erasure --------------------------------------------------------------------------------------------------


def erasure_preview(user: User) -> list[str]:
    """What deleting the account will do beyond the account itself, one sentence per fact, before it happens."""
    lines: list[str] = []
    for handler in handlers():
        if handler.preview is not None:
            lines.extend(handler.preview(user))
    return lines


def erase(actor: Actor, user: User) -> dict[str, ErasureOutcome]:
    """Run every erasure handler in the caller's transaction; {handler name: outcome}. Raises if one fails."""
    return {handler.name: handler.erase(actor, user) for handler in handlers()}


def run_after_commit(outcomes: dict[str, ErasureOutcome] | Sequence[ErasureOutcome]) -> None:
    """The handlers' follow-up work, once the deletion is committed; a failure is logged, never undoes it."""
    values = outcomes.values() if isinstance(outcomes, dict) else outcomes
    for outcome in values:
        for task in outcome.after_commit:
            try:
                task()
            except Exception:
                log.exception("after-commit task of an erasure handler failed", extra={"task": repr(task)})
