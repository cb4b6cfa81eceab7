"""Text from people in files that spreadsheets open (CSV, XLSX): it must never run as a formula.

A spreadsheet treats a cell starting with =, +, -, @ (or a tab or carriage return before one) as a formula, and a
formula can fetch addresses, open links or, with DDE, start programs (OWASP: CSV injection). Every export that
writes text someone typed passes it through here.

- CSV: `formula_safe` puts an apostrophe in front, which spreadsheets read as "this is text".
- XLSX: `xlsx_cell` stores such a text as an explicit string with Excel's "quote prefix" style, so it shows
  exactly as typed and stays text even when someone edits the cell; characters XML cannot carry are dropped.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str | None) -> str:
    """The text for a CSV cell: a leading =, +, -, @, tab or carriage return is quoted with an apostrophe."""
    value = text or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """A value for `sheet.append(...)` of an openpyxl sheet (write-only too): texts that look like formulas
    become string cells with a quote prefix; everything else passes as it is."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # openpyxl refuses control characters XML cannot hold
    if not value.startswith(FORMULA_STARTS):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    cell.quotePrefix = True
    return cell
