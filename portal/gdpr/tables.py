"""The export as CSV files in one zip, for people who read their data in a spreadsheet.

Generic over the sections: every list of records becomes one CSV file (a column per key, nested values as
JSON in their cell), every other record one file with a single row. Names follow the data's own keys, e.g.
`services-appointments-bookings.csv`; the same data as the JSON file, only laid out as tables.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from portal.spreadsheets import formula_safe


def _cell(value: Any) -> str:
    """A cell's text. Texts others wrote (an organisation's name, a clerk's note) must not run as a formula when
    the person opens the file in a spreadsheet: they are quoted as portal.spreadsheets does for every export."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return formula_safe(json.dumps(value, ensure_ascii=False, sort_keys=True))
    if isinstance(value, bool | int | float):
        return str(value)
    return formula_safe(str(value))


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def tables(data: Any, name: str = "") -> dict[str, str]:
    """{file name: CSV text} for the export `data` (as profile.export_data returns it)."""
    files: dict[str, str] = {}
    if isinstance(data, list):
        if data and all(isinstance(row, dict) for row in data):
            files[f"{name}.csv"] = _csv(data)
        elif data:
            files[f"{name}.csv"] = _csv([{"value": value} for value in data])
        return files
    if not isinstance(data, dict):
        return {f"{name}.csv": _csv([{"value": data}])}
    scalars = {key: value for key, value in data.items() if not isinstance(value, dict | list)}
    if scalars:
        files[f"{name or 'export'}.csv"] = _csv([scalars])
    for key, value in data.items():
        if isinstance(value, dict | list):
            files.update(tables(value, f"{name}-{key}" if name else str(key)))
    return files


def csv_zip(data: dict[str, Any]) -> bytes:
    """The export's tables as a zip of UTF-8 CSV files (with a byte-order mark, so spreadsheets read umlauts)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file_name, text in sorted(tables(data).items()):
            archive.writestr(file_name, "\ufeff" + text)
    return buffer.getvalue()
