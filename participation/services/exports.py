"""A consultation's contributions as spreadsheets for staff: proposals, comments (with their thread), supports
and survey answers (participation.services.exports_surveys).

Who: those who moderate the consultation (its department's consultation managers, moderators, platform admins),
from the pages or through the API with their personal token (`as_person`); everyone else gets 403, an unknown
consultation 404.

What (issue 9: "without personal data, with moderated items marked"):
- No author at all: no account id, email or name, no pseudonym, no guest name. Supports and survey answer sets
  give the day only (no time), so that rows cannot be matched to people by their moment.
- Every row has its state in words (veröffentlicht, wartet auf Freigabe, ausgeblendet). A hidden contribution
  keeps its row (reference, dates, counters) but not its title or text: moderators hide texts that insult or name
  other people, and an export travels further than the moderation page where that text stays for the record.
- A comment names its thread: `Thread` is the id of the top-level comment it belongs to (its own id for a
  top-level one), `Antwort auf` the comment it answers.
- Survey answers follow the survey's own rule (participation.services.exports_surveys): a moderator who does not
  manage the consultation gets them once the results are public, and never the free texts.
- Texts pass through portal.spreadsheets, so none runs as a formula in a spreadsheet.

Formats: XLSX holds every table on a sheet of its own; CSV is one file per table (`;`, UTF-8 with BOM, CRLF, as
the treasury's exports), chosen by its name (`TABLES`). Separate CSV downloads rather than a ZIP: each file opens
with a double click in a spreadsheet or an import tool, and the XLSX already is the everything-in-one-file
option. Column headers are fixed German words, so scripts reading the files do not depend on the page language.

Size: rows are read in chunks (`yield_per`) and written to a temporary file that spills to disk past a few MB
(openpyxl's write-only mode does the same per sheet), so 100,000 comments do not sit in memory. The audit event
(`participation.exported`) is written after the file is complete, with the exact row counts.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.exceptions import Forbidden, NotFound

import participation.actions  # noqa: F401  (declares participation.exported)
from participation.models import Comment, Consultation, ContributionState, Proposal, Support
from participation.services import answers, exports_surveys
from participation.services.common import load_consultation
from participation.services.moderation import can_moderate
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.spreadsheets import formula_safe, xlsx_cell
from portal.timeutil import to_berlin
from portal.transaction import transaction

CHUNK = 2000  # rows fetched per round trip
SPOOL_BYTES = 8 * 1024 * 1024  # a file larger than this goes to disk while it is written and sent

STATE_LABELS = {
    ContributionState.PUBLISHED.value: "veröffentlicht",
    ContributionState.PENDING.value: "wartet auf Freigabe",
    ContributionState.HIDDEN.value: "ausgeblendet",
}
STANCE_LABELS = {"pro": "dafür", "neutral": "neutral", "contra": "dagegen"}

Value = str | int | datetime | date | None
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
API_SCOPE = "participation"  # participation.api.SCOPE


def as_person(actor: Actor) -> Actor:
    """Whom the export's rules see: a staff member's personal API token (scope `participation`) exports what that
    person may export from the pages, as the API promises; a token of nobody, or of another scope, exports
    nothing. The audit event still names the token."""
    if actor.token is not None:
        if actor.user is None or API_SCOPE not in actor.scopes:
            return Actor("client", label=actor.label)
        return Actor.for_user(actor.user)
    return actor


def may_export(actor: Actor, consultation: Consultation) -> bool:
    return can_moderate(as_person(actor), consultation)


def exportable(actor: Actor, consultation_id: int) -> Consultation:
    """The consultation if the actor may take its data out (404 if there is none, 403 if not theirs)."""
    consultation = load_consultation(consultation_id)
    if not may_export(actor, consultation):
        raise Forbidden()
    return consultation


# --- the tables -------------------------------------------------------------------------------------------------


def _stream(query: sa.Executable) -> Iterator[Any]:
    """The rows in chunks: a server-side cursor on PostgreSQL, so the result never sits in memory at once."""
    yield from db.session.execute(query.execution_options(yield_per=CHUNK))


def _local(moment: datetime) -> datetime:
    """Berlin wall-clock time without a zone: what a spreadsheet shows and sorts as a date."""
    return to_berlin(moment).replace(tzinfo=None, microsecond=0)


def _hidden(state: str) -> bool:
    return state == ContributionState.HIDDEN.value


def _answer_words() -> dict[str, str]:
    """The answer statuses in the words the proposal pages use, in German whatever the page language."""
    with force_locale("de"):
        return {str(status): str(label) for status, label in answers.ANSWER_LABELS.items()}


def proposal_rows(consultation: Consultation, actor: Actor) -> Iterator[tuple[Value, ...]]:
    consultation_id = consultation.id
    answer_words = _answer_words()
    query = (
        sa.select(
            Proposal.reference,
            Proposal.created_at,
            Proposal.title,
            Proposal.body,
            Proposal.category,
            Proposal.support_count,
            Proposal.comment_count,
            Proposal.state,
            Proposal.answer_status,
        )
        .where(Proposal.consultation_id == consultation_id)
        .order_by(Proposal.id)
    )
    for row in _stream(query):
        hidden = _hidden(row.state)
        yield (
            row.reference,
            _local(row.created_at),
            None if hidden else row.title,
            None if hidden else row.body,
            row.category,
            row.support_count,
            row.comment_count,
            STATE_LABELS[row.state],
            answer_words.get(row.answer_status or "", row.answer_status),
        )


def comment_rows(consultation: Consultation, actor: Actor) -> Iterator[tuple[Value, ...]]:
    consultation_id = consultation.id
    query = (
        sa.select(
            Comment.id,
            Comment.root_id,
            Comment.parent_id,
            Proposal.reference,
            Comment.created_at,
            Comment.stance,
            Comment.body,
            Comment.state,
        )
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .where(Comment.consultation_id == consultation_id)
        .order_by(Comment.id)
    )
    for row in _stream(query):
        yield (
            row.id,
            row.root_id or row.id,
            row.parent_id,
            row.reference,
            _local(row.created_at),
            STANCE_LABELS.get(row.stance or "", row.stance),
            None if _hidden(row.state) else row.body,
            STATE_LABELS[row.state],
        )


def support_rows(consultation: Consultation, actor: Actor) -> Iterator[tuple[Value, ...]]:
    consultation_id = consultation.id
    query = (
        sa.select(Proposal.reference, Support.created_at)
        .join(Proposal, Proposal.id == Support.proposal_id)
        .where(Proposal.consultation_id == consultation_id)
        .order_by(Proposal.id, Support.created_at, Support.id)
    )
    for row in _stream(query):
        yield (row.reference, to_berlin(row.created_at).date())


@dataclass(frozen=True)
class ExportTable:
    key: str  # in the audit event's row counts
    name: str  # in the address (?tabelle=) and the CSV's file name
    sheet: str  # the XLSX sheet's title
    columns: tuple[str, ...]
    widths: tuple[int, ...]  # XLSX column widths in characters
    rows: Callable[[Consultation, Actor], Iterator[tuple[Value, ...]]]


TABLES: tuple[ExportTable, ...] = (
    ExportTable(
        "proposals",
        "vorschlaege",
        "Vorschläge",
        (
            "Kennung",
            "Eingereicht am",
            "Titel",
            "Text",
            "Kategorie",
            "Unterstützungen",
            "Kommentare",
            "Status",
            "Antwort der Verwaltung",
        ),
        (16, 18, 40, 80, 20, 14, 12, 20, 22),
        proposal_rows,
    ),
    ExportTable(
        "comments",
        "kommentare",
        "Kommentare",
        ("Kommentar-ID", "Thread", "Antwort auf", "Vorschlag", "Geschrieben am", "Haltung", "Text", "Status"),
        (14, 12, 12, 16, 18, 10, 80, 20),
        comment_rows,
    ),
    ExportTable(
        "supports",
        "unterstuetzungen",
        "Unterstützungen",
        ("Vorschlag", "Unterstützt am"),
        (16, 14),
        support_rows,
    ),
    ExportTable(
        "survey_answers",
        "umfrage",
        "Umfrage",
        ("Antwortbogen", "Eingegangen am", "Frage-Nr.", "Frage", "Art", "Antwort"),
        (14, 14, 10, 60, 16, 60),
        exports_surveys.answer_rows,
    ),
)
TABLE_NAMES = tuple(table.name for table in TABLES)


def table_named(name: str) -> ExportTable:
    for table in TABLES:
        if table.name == name:
            return table
    raise NotFound()


# --- the files --------------------------------------------------------------------------------------------------


@dataclass
class ExportFile:
    """A finished export: `stream` is positioned at its start; whoever sends it closes it."""

    stream: IO[bytes]
    filename: str
    mimetype: str
    size: int
    rows: dict[str, int]


def _rewound(spool: IO[bytes]) -> int:
    """The file's size, with the file positioned at its start for reading."""
    size = spool.seek(0, io.SEEK_END)
    spool.seek(0)
    return size


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return formula_safe(value)


def export_csv(actor: Actor, consultation_id: int, table_name: str) -> ExportFile:
    """One table of the consultation as CSV: `;`, UTF-8 with BOM (Excel reads the umlauts), CRLF. Audited."""
    consultation = exportable(actor, consultation_id)
    table = table_named(table_name)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (closed by the response)
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(table.columns)
        count = 0
        for row in table.rows(consultation, as_person(actor)):
            writer.writerow([_csv_value(value) for value in row])
            count += 1
        text.flush()
        text.detach()  # hands the bytes file back without closing it
        size = _rewound(spool)
        _record(actor, consultation, "csv", {table.key: count}, table=table.key)
    except BaseException:
        spool.close()
        raise
    return ExportFile(
        spool, f"beteiligung-{consultation.slug}-{table.name}.csv", CSV_MIMETYPE, size, {table.key: count}
    )


def export_xlsx(actor: Actor, consultation_id: int) -> ExportFile:
    """Every table of the consultation on a sheet of its own, as an Excel workbook. Audited."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    consultation = exportable(actor, consultation_id)
    workbook = Workbook(write_only=True)  # rows go to a temporary file per sheet as they come
    counts: dict[str, int] = {}
    bold = Font(bold=True)
    for table in TABLES:
        sheet = workbook.create_sheet(table.sheet)
        sheet.freeze_panes = "A2"
        for index, width in enumerate(table.widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        header = []
        for title in table.columns:
            cell = WriteOnlyCell(sheet, title)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        count = 0
        for row in table.rows(consultation, as_person(actor)):
            sheet.append([xlsx_cell(sheet, value) for value in row])
            count += 1
        counts[table.key] = count
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (closed by the response)
    try:
        workbook.save(spool)
        size = _rewound(spool)
        _record(actor, consultation, "xlsx", counts)
    except BaseException:
        spool.close()
        raise
    return ExportFile(spool, f"beteiligung-{consultation.slug}.xlsx", XLSX_MIMETYPE, size, counts)


def _record(actor: Actor, consultation: Consultation, format_: str, rows: dict[str, int], **details: Any) -> None:
    with transaction():
        audit.record(
            "participation.exported",
            actor,
            target=consultation,
            consultation=consultation.slug,
            format=format_,
            rows=rows,
            **details,
        )


def record_report(actor: Actor, consultation: Consultation, language: str, rows: dict[str, int]) -> None:
    """The council report is an export too (participation.services.report)."""
    _record(actor, consultation, "pdf", rows, language=language)
