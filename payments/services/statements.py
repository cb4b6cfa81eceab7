"""Bank statements: the treasury imports one (CSV or CAMT.053), credits are matched to payment orders.

Accepted formats (the upload is parsed in memory and not stored; only its lines are kept):

CSV, as German banks export it: `;` between fields (tab or `,` are recognised too), a header row (lines
before it, such as account details, are skipped), UTF-8 or Windows-1252, decimal comma. Columns by their
header, in any order, upper/lower case and umlauts as you like:
    Buchungstag      (required) booking date: 27.11.2026, 27.11.26 or 2026-11-27
    Valuta           value date (also: Wertstellung)
    Betrag           (required) 37,00 or -12,50 or 1.234,56 (also 37.00); negative = money leaving the account
    Währung          EUR if missing
    Name             the remitter (also: Auftraggeber, Zahlungspflichtiger, Name Zahlungsbeteiligter)
    IBAN             the remitter's IBAN, optional
    Verwendungszweck the remittance text, where the Kassenzeichen is looked for
    Bankreferenz     the bank's reference of the booking (also: Buchungsreferenz, Referenz)
    Soll/Haben       optional S/H (or D/C) when the amount carries no sign
Rows whose booking date does not start with a digit (opening/closing balance lines) are skipped.

CAMT.053 (ISO 20022 bank-to-customer statement), namespaces camt.053.001.02 and camt.053.001.08: every
booked entry (Sts BOOK) of every statement in the file; an entry with several transactions (a batch) gives one
line per transaction. Pending entries are left out until they are booked. A DOCTYPE is refused (no entity of
any kind is expanded); size and number of entries are capped.

Matching a credit: the remittance text is searched for Kassenzeichen, 13 digits in groups separated by single
spaces, dots or hyphens (`26 100 000042 64`, `2610000004264`); only numbers with valid check digits count, so
a typo never pays a stranger's bill. The order must exist, be unpaid and the amount equal; then the order is
paid (method bank_transfer) in the same transaction as the line is stored. Everything else waits, with its
reason, for the treasury: assign it to an order by hand, or mark it "not ours / to be returned".

Importing the same bookings twice books nothing twice: each line's natural key (see `natural_key`) is unique.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

import payments.actions  # noqa: F401  (declares the audit actions)
from payments import state
from payments.errors import PaymentError
from payments.models import Payment, PaymentStatus
from payments.models_bank import (
    BankStatement,
    BankStatementLine,
    Direction,
    LineStatus,
    UnmatchedReason,
)
from payments.services import orders
from payments.services.statement_formats import (  # the parsers, also re-exported for callers and tests
    MAX_BYTES,  # noqa: F401  (re-exported: the upload page states the limits)
    MAX_LINES,  # noqa: F401
    ParsedLine,
    ParsedStatement,
    _iban,
    _text,
    keyed,
    parse,
    parse_amount,  # noqa: F401  (re-exported)
)
from portal.actors import Actor
from portal.audit import services as audit
from portal.extensions import db
from portal.references.kassenzeichen import compact, is_valid_kassenzeichen
from portal.timeutil import utcnow
from portal.transaction import transaction

TREASURY_ROLES = ("treasury",)
KASSENZEICHEN_LENGTH = 13
# Digit groups joined by single separators, as people type a Kassenzeichen and banks break remittance lines.
_DIGIT_RUN_RE = re.compile(r"\d+(?:[ .\-]\d+)*")


def _require_treasury(actor: Actor) -> None:
    from werkzeug.exceptions import Forbidden

    if not any(actor.has_role(role) for role in TREASURY_ROLES):
        raise Forbidden()


def _refuse(message: str, code: str) -> PaymentError:
    return PaymentError("statement", message, code, 422)


# --- matching ---------------------------------------------------------------------------------------------


def kassenzeichen_candidates(text: str) -> tuple[list[str], list[str]]:
    """13-digit numbers in a remittance text: (those with valid check digits, those without), compact, in order.

    A number may be written in groups (`26 100 000042 64`, `26.100.000042.64`); a run of groups with more
    digits is searched for a stretch of whole groups adding up to 13 digits (a date or an amount next to the
    Kassenzeichen). A group of more than 13 digits (an IBAN, a long reference) is never cut apart.
    """
    valid: list[str] = []
    invalid: list[str] = []
    for run in _DIGIT_RUN_RE.finditer(" ".join((text or "").split())):
        groups = re.split(r"[ .\-]", run.group(0))
        for first in range(len(groups)):
            digits = 0
            for last in range(first, len(groups)):
                digits += len(groups[last])
                if digits >= KASSENZEICHEN_LENGTH:
                    break
            if digits == KASSENZEICHEN_LENGTH:
                number = compact("".join(groups[first : last + 1]))
                bucket = valid if is_valid_kassenzeichen(number) else invalid
                if number not in bucket:
                    bucket.append(number)
    return valid, invalid


def _payment_by_kassenzeichen(kassenzeichen: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.kassenzeichen == kassenzeichen))


def _pay_with(actor: Actor, line: BankStatementLine, payment: Payment, status: LineStatus) -> None:
    """Mark the (locked, unpaid) payment paid by this line, in the caller's transaction."""
    payment.method = "bank_transfer"
    moved = orders.move(
        actor,
        payment,
        PaymentStatus.SUCCEEDED,
        reason="bank_transfer",
        bank_line_id=line.id,
        bank_reference=line.bank_reference,
        booking_date=line.booking_date.isoformat(),
        received_cents=line.amount_cents,
        by_hand=status == LineStatus.ASSIGNED,
    )
    if not moved:  # cannot happen for an unpaid, locked payment; never record a match that did not pay
        raise RuntimeError(f"payment {payment.id} could not be marked paid")
    line.status = status.value
    line.reason = None
    line.payment_id = payment.id
    line.kassenzeichen = payment.kassenzeichen


def _unmatched(line: BankStatementLine, reason: UnmatchedReason, kassenzeichen: str | None = None) -> None:
    line.status = LineStatus.UNMATCHED.value
    line.reason = reason.value
    line.kassenzeichen = kassenzeichen


def match_line(actor: Actor, line: BankStatementLine) -> bool:
    """Decide a freshly stored line (in the caller's transaction); True when it paid a payment order."""
    if line.direction == Direction.DEBIT.value:
        line.status = LineStatus.IGNORED.value
        return False
    if line.currency != "EUR":
        _unmatched(line, UnmatchedReason.CURRENCY)
        return False
    valid, invalid = kassenzeichen_candidates(line.remittance_text)
    if not valid:
        if invalid:
            _unmatched(line, UnmatchedReason.INVALID_KASSENZEICHEN, invalid[0])
        else:
            _unmatched(line, UnmatchedReason.NO_KASSENZEICHEN)
        return False
    found = [p for p in (_payment_by_kassenzeichen(k) for k in valid) if p is not None]
    if not found:
        _unmatched(line, UnmatchedReason.UNKNOWN_KASSENZEICHEN, valid[0])
        return False
    if len(found) > 1:
        _unmatched(line, UnmatchedReason.SEVERAL_KASSENZEICHEN, found[0].kassenzeichen)
        return False
    payment = orders._lock(found[0].id)
    if PaymentStatus(payment.status) not in state.UNPAID:
        _unmatched(line, UnmatchedReason.ALREADY_PAID, payment.kassenzeichen)
        return False
    if line.amount_cents != payment.amount_cents:
        _unmatched(line, UnmatchedReason.AMOUNT_DIFFERS, payment.kassenzeichen)
        return False
    _pay_with(actor, line, payment, LineStatus.MATCHED)
    return True


# --- importing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    statement_id: int
    lines: int
    new: int
    duplicates: int
    matched: int
    unmatched: int
    skipped: int


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            db.session.scalars(sa.select(BankStatementLine.natural_key).where(BankStatementLine.natural_key.in_(chunk)))
        )
    return found


def import_statement(actor: Actor, file_name: str, data: bytes) -> ImportResult:
    """Store a statement's new lines and match them, all in one transaction with its audit event."""
    _require_treasury(actor)
    account = _iban(current_app.config["PAYMENTS_BANK_IBAN"])
    parsed = parse(data, account)
    lines = keyed(parsed.lines)
    digest = hashlib.sha256(data).hexdigest()
    name = _text(file_name, 200) or "kontoauszug"
    for attempt in (1, 2):
        try:
            return _store(actor, parsed, lines, name, digest)
        except IntegrityError:
            # Another import stored some of these lines meanwhile (the unique natural key stopped us, and
            # everything was rolled back): read again which are new.
            if attempt == 2:
                raise PaymentError(
                    "statement",
                    _("Der Kontoauszug wird gerade schon importiert. Bitte versuchen Sie es gleich noch einmal."),
                    "concurrent_import",
                    409,
                ) from None
    raise AssertionError("unreachable")


def _store(
    actor: Actor, parsed: ParsedStatement, lines: list[tuple[str, ParsedLine]], name: str, digest: str
) -> ImportResult:
    with transaction():
        existing = _existing_keys([key for key, _line in lines])
        statement = BankStatement(
            format=parsed.format,
            file_name=name,
            file_sha256=digest,
            account_iban=parsed.account_iban,
            statement_reference=parsed.reference,
            imported_by=actor.user.id if actor.user else None,
            line_count=len(lines),
        )
        db.session.add(statement)
        db.session.flush()
        new = matched = unmatched = 0
        for key, parsed_line in lines:
            if key in existing:
                continue
            line = BankStatementLine(
                statement_id=statement.id,
                natural_key=key,
                account_iban=parsed_line.account_iban,
                booking_date=parsed_line.booking_date,
                value_date=parsed_line.value_date,
                amount_cents=parsed_line.amount_cents,
                direction=parsed_line.direction,
                currency=parsed_line.currency,
                remitter_name=parsed_line.remitter_name,
                remitter_iban=parsed_line.remitter_iban,
                remittance_text=parsed_line.remittance_text,
                bank_reference=parsed_line.bank_reference,
                status=LineStatus.UNMATCHED.value,
            )
            db.session.add(line)
            db.session.flush()
            new += 1
            if match_line(actor, line):
                matched += 1
            elif line.status == LineStatus.UNMATCHED.value:
                unmatched += 1
        statement.new_count, statement.matched_count = new, matched
        audit.record(
            "payment.statement_imported",
            actor,
            target=statement,
            format=parsed.format,
            file_sha256=digest,
            lines=len(lines),
            new_lines=new,
            matched=matched,
            unmatched=unmatched,
        )
        return ImportResult(statement.id, len(lines), new, len(lines) - new, matched, unmatched, parsed.skipped)


# --- the treasury's decisions on unmatched lines -----------------------------------------------------------


def _clean_note(note: Any, required: bool) -> str | None:
    text = " ".join(str(note or "").split())
    if "\x00" in text:
        raise PaymentError("note", _("Der Text enthält ungültige Zeichen."), "invalid_characters")
    if len(text) > 500:
        raise PaymentError("note", _("Höchstens %(n)s Zeichen.", n=500), "too_long")
    if required and not text:
        raise PaymentError("note", _("Bitte begründen Sie die Entscheidung in einer Notiz."), "note_required")
    return text or None


def _lock_line(line_id: int) -> BankStatementLine:
    line = db.session.scalar(
        sa.select(BankStatementLine)
        .where(BankStatementLine.id == line_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if line is None:
        raise PaymentError("line", _("Diesen Posten gibt es nicht."), "unknown_line", 404)
    if line.status != LineStatus.UNMATCHED.value:
        raise PaymentError("line", _("Über diesen Posten ist bereits entschieden."), "already_decided", 409)
    return line


def _decided(actor: Actor, line: BankStatementLine, note: str | None) -> None:
    line.decided_by = actor.user.id if actor.user else None
    line.decided_at = utcnow()
    line.note = note


def assign_line(actor: Actor, line_id: int, kassenzeichen: str, note: str | None = None) -> BankStatementLine:
    """The treasury decides an unmatched credit pays the order with this Kassenzeichen (which must be unpaid).

    A different amount needs a note saying why (a payer who paid short and the rest is forgiven, say).
    """
    _require_treasury(actor)
    number = compact(kassenzeichen or "")
    if not is_valid_kassenzeichen(number):
        raise PaymentError(
            "kassenzeichen",
            _("Das ist kein gültiges Kassenzeichen (13 Ziffern, die Prüfziffern passen nicht)."),
            "invalid_kassenzeichen",
        )
    with transaction():
        line = _lock_line(line_id)
        if line.direction != Direction.CREDIT.value:
            raise PaymentError("line", _("Nur Gutschriften können einer Zahlung zugeordnet werden."), "not_a_credit")
        found = _payment_by_kassenzeichen(number)
        if found is None:
            raise PaymentError(
                "kassenzeichen", _("Zu diesem Kassenzeichen gibt es keine Zahlung."), "unknown_kassenzeichen"
            )
        payment = orders._lock(found.id)
        if PaymentStatus(payment.status) not in state.UNPAID:
            raise PaymentError(
                "kassenzeichen",
                _("Diese Zahlung ist bereits bezahlt. Markieren Sie den Posten zur Rücküberweisung."),
                "already_paid",
                409,
            )
        clean = _clean_note(note, required=line.amount_cents != payment.amount_cents)
        previous = line.reason
        _pay_with(actor, line, payment, LineStatus.ASSIGNED)
        _decided(actor, line, clean)
        audit.record(
            "payment.bank_line_assigned",
            actor,
            target=line,
            subject_user_id=payment.payer_user_id,
            kassenzeichen=payment.kassenzeichen,
            received_cents=line.amount_cents,
            amount_cents=payment.amount_cents,
            previous_reason=previous,
        )
        return line


def mark_returned(actor: Actor, line_id: int, note: str) -> BankStatementLine:
    """Not ours, or to be sent back (a second payment, say): the line leaves the list, with the reason why."""
    _require_treasury(actor)
    clean = _clean_note(note, required=True)
    with transaction():
        line = _lock_line(line_id)
        previous = line.reason
        line.status = LineStatus.RETURNED.value
        _decided(actor, line, clean)
        audit.record(
            "payment.bank_line_returned",
            actor,
            target=line,
            amount_cents=line.amount_cents,
            previous_reason=previous,
            kassenzeichen=line.kassenzeichen,
        )
        return line


# --- reading ----------------------------------------------------------------------------------------------


def list_statements(actor: Actor, limit: int = 50) -> list[BankStatement]:
    _require_treasury(actor)
    return list(db.session.scalars(sa.select(BankStatement).order_by(BankStatement.id.desc()).limit(limit)))


def get_statement(actor: Actor, statement_id: int) -> BankStatement | None:
    _require_treasury(actor)
    return db.session.get(BankStatement, statement_id)


def unmatched_lines(actor: Actor, limit: int = 500) -> list[BankStatementLine]:
    _require_treasury(actor)
    return list(
        db.session.scalars(
            sa.select(BankStatementLine)
            .where(BankStatementLine.status == LineStatus.UNMATCHED.value)
            .order_by(BankStatementLine.booking_date, BankStatementLine.id)
            .limit(limit)
        )
    )


def count_unmatched(actor: Actor) -> int:
    _require_treasury(actor)
    return (
        db.session.scalar(
            sa.select(sa.func.count(BankStatementLine.id)).where(BankStatementLine.status == LineStatus.UNMATCHED.value)
        )
        or 0
    )


def get_line(actor: Actor, line_id: int) -> BankStatementLine | None:
    _require_treasury(actor)
    return db.session.get(BankStatementLine, line_id)


def find_payment(actor: Actor, kassenzeichen: str) -> Payment | None:
    """The order with this Kassenzeichen (spaces and dots ignored), for the treasury's search."""
    _require_treasury(actor)
    number = compact(kassenzeichen or "")
    if not is_valid_kassenzeichen(number):
        return None
    return _payment_by_kassenzeichen(number)


def paying_lines(payment_ids: Iterable[int]) -> dict[int, BankStatementLine]:
    """For the reconciliation: the line that paid each of these orders (bank transfers only)."""
    ids = list(payment_ids)
    if not ids:
        return {}
    lines = db.session.scalars(
        sa.select(BankStatementLine).where(
            BankStatementLine.payment_id.in_(ids),
            BankStatementLine.status.in_([LineStatus.MATCHED.value, LineStatus.ASSIGNED.value]),
        )
    )
    return {line.payment_id: line for line in lines if line.payment_id is not None}
