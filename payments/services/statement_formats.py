"""Reading bank statements: CSV as German banks export it and CAMT.053, into parsed lines with natural keys.

The formats accepted are described in payments.services.statements, which imports, matches and stores them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.parsers import expat

from flask_babel import gettext as _

import payments.actions  # noqa: F401  (declares the audit actions)
from payments.errors import PaymentError
from payments.models_bank import (
    Direction,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_LINES = 10_000
CAMT_NAMESPACES = {
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": "camt.053.001.02",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "camt.053.001.08",
}
KASSENZEICHEN_LENGTH = 13
# Digit groups joined by single separators, as people type a Kassenzeichen and banks break remittance lines.
_DIGIT_RUN_RE = re.compile(r"\d+(?:[ .\-]\d+)*")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse(message: str, code: str) -> PaymentError:
    return PaymentError("statement", message, code, 422)


# --- parsed lines -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedLine:
    account_iban: str
    booking_date: date
    amount_cents: int  # > 0
    direction: str
    currency: str = "EUR"
    value_date: date | None = None
    remitter_name: str = ""
    remitter_iban: str | None = None
    remittance_text: str = ""
    bank_reference: str = ""


@dataclass
class ParsedStatement:
    format: str  # csv, camt053
    account_iban: str
    reference: str | None = None
    lines: list[ParsedLine] = field(default_factory=list)
    skipped: int = 0  # rows or entries left out (balance lines, pending entries)


def _text(value: Any, limit: int) -> str:
    text = " ".join(_CONTROL_RE.sub(" ", str(value or "")).split())
    return text[:limit]


def _iban(value: Any) -> str:
    return "".join(str(value or "").split()).upper()[:34]


def natural_key(line: ParsedLine, occurrence: int) -> str:
    """The identity of a booking, the same however the statement is exported or how often it is imported.

    The account, the booking date, the direction, the amount and the bank's own reference of the booking
    identify it: the reference is unique per booking at the account-holding bank, and the other parts
    guard against a bank that reuses references across days or for the parts of a batch. When an export
    carries no reference, the remitter and the remittance text stand in for it. `occurrence` numbers
    identical bookings within one file (the second of two equal transfers on one day is a booking of its
    own), so the same file imported again, or an export overlapping an earlier one, yields the same keys.
    A hash of the file with the line's index would only recognise the very same file, not an overlapping one.
    """
    parts = [line.account_iban, line.booking_date.isoformat(), line.direction, str(line.amount_cents)]
    if line.bank_reference:
        parts.append("ref:" + line.bank_reference)
    else:
        parts += ["noref", line.remitter_name, line.remittance_text]
    parts.append(str(occurrence))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def keyed(lines: Iterable[ParsedLine]) -> list[tuple[str, ParsedLine]]:
    seen: dict[str, int] = {}
    result = []
    for line in lines:
        base = natural_key(line, 0)
        seen[base] = seen.get(base, -1) + 1
        result.append((natural_key(line, seen[base]) if seen[base] else base, line))
    return result


# --- CSV --------------------------------------------------------------------------------------------------

_CSV_COLUMNS = {
    "booking_date": ("buchungstag", "buchungsdatum", "buchung", "bookingdate", "datum"),
    "value_date": ("valuta", "valutadatum", "wertstellung", "wertstellungsdatum", "valuedate", "wert"),
    "amount": ("betrag", "betrageur", "umsatz", "amount", "betragineur"),
    "currency": ("waehrung", "wahrung", "whrg", "currency", "wahrungscode", "waehrungscode"),
    "remitter_name": (
        "name",
        "auftraggeber",
        "auftraggeberempfaenger",
        "zahlungspflichtiger",
        "beguenstigterzahlungspflichtiger",
        "namezahlungsbeteiligter",
        "zahlungsbeteiligter",
        "remittername",
    ),
    "remitter_iban": ("iban", "ibanzahlungsbeteiligter", "ibanauftraggeber", "kontonummeriban", "remitteriban"),
    "remittance_text": ("verwendungszweck", "remittancetext", "remittanceinformation", "vwz"),
    "bank_reference": ("bankreferenz", "buchungsreferenz", "referenz", "bankreference", "reference"),
    "debit_credit": ("sollhaben", "sh", "debitcredit", "creditdebit"),
}
_HEADER_LOOKUP = {alias: column for column, aliases in _CSV_COLUMNS.items() for alias in aliases}
_CSV_DELIMITERS = (";", "\t", ",")
_HEADER_SEARCH_ROWS = 30
_DE_AMOUNT_RE = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$")
_EN_AMOUNT_RE = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")


def _header_name(cell: str) -> str:
    text = cell.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isascii() and c.isalnum())


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise _refuse(_("Die Datei enthält Binärdaten und ist keine CSV-Datei."), "not_csv")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # German banks still export in Windows-1252 (ANSI). Five bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) are
        # undefined in it: a file with one of them is neither, and is refused rather than guessed at.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise _refuse(
            _("Die Datei ist weder in UTF-8 noch in Windows-1252 kodiert und ist keine CSV-Datei einer Bank."),
            "not_csv",
        ) from None


def parse_amount(text: str) -> int:
    """A bank's amount in cents, signed: "1.234,56" -> 123456, "-37,00" -> -3700, "37.5" -> 3750."""
    cleaned = "".join(str(text).replace("€", "").replace("EUR", "").split()).replace("\u00a0", "")
    sign = 1
    if cleaned[:1] in "+-" and cleaned:
        sign, cleaned = (-1 if cleaned[0] == "-" else 1), cleaned[1:]
    elif cleaned.endswith("-"):  # some banks put the minus behind the number
        sign, cleaned = -1, cleaned[:-1]
    for pattern, thousands in ((_DE_AMOUNT_RE, "."), (_EN_AMOUNT_RE, ",")):
        match = pattern.match(cleaned)
        if match and thousands == "," and "." not in cleaned and "," in cleaned:
            break  # "37,001": a German amount with three decimals, or 37001 written the English way? Neither.
        if match:
            whole = int(match.group(1).replace(thousands, ""))
            fraction = (match.group(2) or "0").ljust(2, "0")
            return sign * (whole * 100 + int(fraction))
    raise ValueError(f"not an amount: {text!r}")


def parse_date(text: str) -> date:
    value = text.strip()
    for pattern in ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            column = _HEADER_LOOKUP.get(_header_name(cell))
            if column is not None and column not in columns:
                columns[column] = position
        if "booking_date" in columns and "amount" in columns:
            return index, columns
    return None


def parse_csv(data: bytes, account_iban: str) -> ParsedStatement:
    text = _decode(data)
    header = None
    rows: list[list[str]] = []
    for delimiter in _CSV_DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        header = _find_header(rows)
        if header is not None:
            break
    if header is None:
        raise _refuse(
            _(
                "In der CSV-Datei fehlt eine Kopfzeile mit mindestens den Spalten „Buchungstag“ und „Betrag“ "
                "(getrennt durch Semikolon)."
            ),
            "csv_header_missing",
        )
    start, columns = header
    statement = ParsedStatement("csv", account_iban)

    def cell(row: list[str], column: str) -> str:
        position = columns.get(column)
        return row[position].strip() if position is not None and position < len(row) else ""

    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        if not any(c.strip() for c in row):
            continue
        booked = cell(row, "booking_date")
        if not booked[:1].isdigit():
            statement.skipped += 1  # balance lines, totals, notes
            continue
        if len(statement.lines) >= MAX_LINES:
            raise _refuse(_("Die Datei hat mehr als %(n)s Buchungen.", n=MAX_LINES), "too_many_lines")
        try:
            booking_date = parse_date(booked)
            value_date = parse_date(cell(row, "value_date")) if cell(row, "value_date") else None
            amount = parse_amount(cell(row, "amount"))
        except ValueError:
            raise _refuse(
                _("Zeile %(n)s: Datum oder Betrag ist nicht lesbar.", n=number), "csv_line_unreadable"
            ) from None
        marker = cell(row, "debit_credit").upper()[:1]
        if marker in ("S", "D"):
            amount = -abs(amount)
        elif marker in ("H", "C"):
            amount = abs(amount)
        if amount == 0:
            statement.skipped += 1
            continue
        statement.lines.append(
            ParsedLine(
                account_iban=account_iban,
                booking_date=booking_date,
                value_date=value_date,
                amount_cents=abs(amount),
                direction=Direction.CREDIT.value if amount > 0 else Direction.DEBIT.value,
                currency=(_text(cell(row, "currency"), 3) or "EUR").upper(),
                remitter_name=_text(cell(row, "remitter_name"), 140),
                remitter_iban=_iban(cell(row, "remitter_iban")) or None,
                remittance_text=_text(cell(row, "remittance_text"), 500),
                bank_reference=_text(cell(row, "bank_reference"), 140),
            )
        )
    return statement


# --- CAMT.053 ---------------------------------------------------------------------------------------------


def _refuse_dtd(data: bytes) -> None:
    """Parse once with expat, refusing any DOCTYPE or entity declaration before ElementTree sees the file.

    ElementTree never fetches external entities, but it does expand internal ones; a bank statement needs
    neither, so both are refused outright (no "billion laughs", no external references).
    """

    def refuse(*_args: Any) -> None:
        raise _refuse(_("Die XML-Datei enthält eine DOCTYPE-Deklaration; das ist nicht erlaubt."), "xml_doctype")

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        raise _refuse(_("Die XML-Datei ist nicht wohlgeformt."), "xml_malformed") from None


class _Camt:
    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def path(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{step}" for step in path.split("/"))

    def find(self, element: ET.Element | None, *paths: str) -> ET.Element | None:
        if element is None:
            return None
        for path in paths:
            found = element.find(self.path(path))
            if found is not None:
                return found
        return None

    def text(self, element: ET.Element | None, *paths: str) -> str:
        found = self.find(element, *paths)
        return (found.text or "").strip() if found is not None else ""

    def all(self, element: ET.Element | None, path: str) -> list[ET.Element]:
        return [] if element is None else element.findall(self.path(path))


def _camt_amount(element: ET.Element | None) -> tuple[int, str]:
    if element is None:
        raise ValueError("no amount")
    try:
        value = Decimal((element.text or "").strip())
    except InvalidOperation:
        raise ValueError("not an amount") from None
    cents = value * 100
    if cents != cents.to_integral_value() or cents <= 0 or cents > 10**15:
        raise ValueError("not an amount in cents")
    return int(cents), (element.get("Ccy") or "EUR").strip().upper()[:3]


def _camt_date(camt: _Camt, element: ET.Element | None, path: str) -> date | None:
    text = camt.text(element, f"{path}/Dt") or camt.text(element, f"{path}/DtTm")[:10]
    return date.fromisoformat(text) if text else None


def parse_camt053(data: bytes) -> ParsedStatement:
    _refuse_dtd(data)
    try:
        root = ET.fromstring(data)  # noqa: S314  (no DOCTYPE: checked just above)
    except ET.ParseError:
        raise _refuse(_("Die XML-Datei ist nicht wohlgeformt."), "xml_malformed") from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace not in CAMT_NAMESPACES:
        raise _refuse(
            _("Das ist kein Kontoauszug im Format CAMT.053 (erwartet: camt.053.001.02 oder camt.053.001.08)."),
            "camt_unsupported",
        )
    camt = _Camt(namespace)
    statements = camt.all(camt.find(root, "BkToCstmrStmt"), "Stmt")
    if not statements:
        raise _refuse(_("Die Datei enthält keinen Kontoauszug (Stmt)."), "camt_empty")
    first_iban = _iban(camt.text(statements[0], "Acct/Id/IBAN"))
    result = ParsedStatement(
        "camt053",
        first_iban,
        reference=_text(", ".join(camt.text(s, "Id") for s in statements if camt.text(s, "Id")), 140) or None,
    )
    for number, stmt in enumerate(statements, start=1):
        iban = _iban(camt.text(stmt, "Acct/Id/IBAN"))
        if not iban:
            raise _refuse(_("Kontoauszug %(n)s: die IBAN des Kontos fehlt.", n=number), "camt_no_account")
        for entry_number, entry in enumerate(camt.all(stmt, "Ntry"), start=1):
            try:
                lines = _camt_entry(camt, iban, entry)
            except ValueError:
                raise _refuse(
                    _("Buchung %(n)s: Datum oder Betrag ist nicht lesbar.", n=entry_number), "camt_entry_unreadable"
                ) from None
            if lines is None:
                result.skipped += 1
                continue
            result.lines.extend(lines)
            if len(result.lines) > MAX_LINES:
                raise _refuse(_("Die Datei hat mehr als %(n)s Buchungen.", n=MAX_LINES), "too_many_lines")
    return result


def _camt_entry(camt: _Camt, iban: str, entry: ET.Element) -> list[ParsedLine] | None:
    """The lines of one Ntry; None for an entry that is not booked yet (pending, information only)."""
    status = camt.text(entry, "Sts/Cd") or camt.text(entry, "Sts")
    if status and status.upper() != "BOOK":
        return None
    amount, currency = _camt_amount(camt.find(entry, "Amt"))
    indicator = camt.text(entry, "CdtDbtInd").upper()
    if indicator not in ("CRDT", "DBIT"):
        raise ValueError("no credit/debit indicator")
    direction = Direction.CREDIT.value if indicator == "CRDT" else Direction.DEBIT.value
    booking_date = _camt_date(camt, entry, "BookgDt") or _camt_date(camt, entry, "ValDt")
    if booking_date is None:
        raise ValueError("no booking date")
    value_date = _camt_date(camt, entry, "ValDt")
    entry_reference = camt.text(entry, "AcctSvcrRef") or camt.text(entry, "NtryRef")
    transactions = camt.all(entry, "NtryDtls/TxDtls")
    amounts = [camt.find(tx, "AmtDtls/TxAmt/Amt", "Amt") for tx in transactions]
    # A batch is split only when every transaction states its own amount; otherwise it stays one booking.
    split = len(transactions) > 1 and all(a is not None for a in amounts)
    parts = (
        list(zip(transactions, amounts, strict=True)) if split else [(transactions[0] if transactions else None, None)]
    )
    lines = []
    for index, (tx, tx_amount) in enumerate(parts, start=1):
        cents, ccy = _camt_amount(tx_amount) if tx_amount is not None else (amount, currency)
        party = "Dbtr" if direction == Direction.CREDIT.value else "Cdtr"
        texts = [(e.text or "") for e in camt.all(camt.find(tx, "RmtInf"), "Ustrd")]
        structured = camt.text(tx, "RmtInf/Strd/CdtrRefInf/Ref")
        reference = camt.text(tx, "Refs/AcctSvcrRef") or (
            f"{entry_reference}/{index}" if split and entry_reference else entry_reference
        )
        lines.append(
            ParsedLine(
                account_iban=iban,
                booking_date=booking_date,
                value_date=value_date,
                amount_cents=cents,
                direction=direction,
                currency=ccy,
                remitter_name=_text(camt.text(tx, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm"), 140),
                remitter_iban=_iban(camt.text(tx, f"RltdPties/{party}Acct/Id/IBAN")) or None,
                # Banks cut the remittance into lines of 35 or 140 characters, even inside a number: a space
                # keeps a Kassenzeichen split across lines recognisable (spaces are allowed inside it).
                remittance_text=_text(" ".join([*texts, structured]), 500),
                bank_reference=_text(reference, 140),
            )
        )
    return lines


def parse(data: bytes, account_iban: str) -> ParsedStatement:
    """A statement file in memory: CAMT.053 when it is XML, else CSV. Raises PaymentError for what it refuses."""
    if not data.strip():
        raise _refuse(_("Die Datei ist leer."), "empty")
    if len(data) > MAX_BYTES:
        raise _refuse(_("Die Datei ist größer als %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024)), "too_large")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5]
    if head.startswith(b"<"):
        return parse_camt053(data)
    return parse_csv(data, account_iban)
