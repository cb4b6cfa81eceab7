"""Bank statements: CSV and CAMT.053 imported once, credits matched by Kassenzeichen and amount, the rest decided
by the treasury by hand."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from payments.errors import PaymentError
from payments.models import Payment
from payments.models_bank import BankStatement, BankStatementLine
from payments.services import statements
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.references import format_kassenzeichen
from portal.references.kassenzeichen import check_digits
from tests.builders import csrf_from, make_user
from tests.payments.builders import make_paid_payment, make_payment, make_treasurer

ACCOUNT = "DE02120300000000202051"


# --- fixtures: statements as banks export them ------------------------------------------------------------


def german_csv(
    rows: list[tuple[str, str, str, str]], *, with_reference: bool = True, encoding: str = "utf-8-sig"
) -> bytes:
    """An online-banking CSV export: account details above the header, `;`, decimal comma, a balance line.

    rows: (booking date, remitter, remittance text, amount as the bank writes it).
    """
    header = "Buchungstag;Valuta;Name Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;Verwendungszweck;Betrag;Währung"
    lines = [
        "Kontoinhaber;Stadtkasse Musterstadt",
        f"IBAN;{ACCOUNT}",
        "Zeitraum;27.11.2026 - 27.11.2026",
        "",
        header + (";Bankreferenz" if with_reference else ""),
    ]
    for number, (day, name, text, amount) in enumerate(rows, start=1):
        line = f'{day};{day};{name};DE89370400440532013000;"{text}";{amount};EUR'
        lines.append(line + (f";20261127{number:05d}" if with_reference else ""))
    lines.append("Neuer Kontostand;;;;;12.345,67;EUR" + (";" if with_reference else ""))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def camt053(entries: str, version: str = "08") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT20261127MUSTERSTADT</MsgId><CreDtTm>2026-11-28T06:01:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>2026-11-27-231</Id>
      <ElctrncSeqNb>231</ElctrncSeqNb>
      <CreDtTm>2026-11-28T06:01:00+01:00</CreDtTm>
      <Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BICFI>BYLADEM1001</BICFI></FinInstnId></Svcr></Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-27</Dt></Dt>
      </Bal>
{entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


def camt_entry(
    amount: str,
    texts: list[str],
    *,
    reference: str,
    indicator: str = "CRDT",
    status: str = "BOOK",
    version: str = "08",
    name: str = "Erika Mustermann",
) -> str:
    sts = f"<Sts><Cd>{status}</Cd></Sts>" if version == "08" else f"<Sts>{status}</Sts>"
    party = f"<Pty><Nm>{name}</Nm></Pty>" if version == "08" else f"<Nm>{name}</Nm>"
    ustrd = "".join(f"<Ustrd>{t}</Ustrd>" for t in texts)
    return f"""      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>{indicator}</CdtDbtInd>
        {sts}
        <BookgDt><Dt>2026-11-27</Dt></BookgDt>
        <ValDt><Dt>2026-11-27</Dt></ValDt>
        <AcctSvcrRef>{reference}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
          <RltdPties><Dbtr>{party}</Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct></RltdPties>
          <RmtInf>{ustrd}</RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""


@pytest.fixture
def treasurer():
    return Actor.for_user(make_treasurer())


def _kz(payment: Payment) -> str:
    return format_kassenzeichen(payment.kassenzeichen)


def _typo(kassenzeichen: str) -> str:
    """The same number with one digit changed, as a payer mistypes it."""
    digit = kassenzeichen[7]
    return kassenzeichen[:7] + str((int(digit) + 1) % 10) + kassenzeichen[8:]


def _status(payment: Payment) -> str:
    db.session.expire_all()
    return db.session.get(Payment, payment.id).status


def _lines() -> list[BankStatementLine]:
    return list(db.session.scalars(sa.select(BankStatementLine).order_by(BankStatementLine.id)))


def _events(action: str) -> list[dict]:
    """The details of each audit event of this action, with who acted, oldest first."""
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [{**json.loads(e.details), "_actor": e.actor_id} for e in events]


# --- importing and matching -------------------------------------------------------------------------------


def test_a_german_csv_export_is_imported_and_its_transfers_pay_their_orders(app, treasurer):
    ausweis = make_payment(amount_cents=3700)
    pass_ = make_payment(amount_cents=7000, purpose="Reisepass", case_reference="T-2026-000002")
    data = german_csv(
        [
            ("27.11.2026", "Erika Mustermann", f"Kassenzeichen {_kz(ausweis)} Personalausweis", "37,00"),
            ("27.11.2026", "Max Müller", f"KZ{pass_.kassenzeichen}", "70,00"),
            ("27.11.2026", "Stromversorger AG", "Abschlag November", "-1.234,56"),
        ]
    )
    result = statements.import_statement(treasurer, "umsaetze.csv", data)
    assert (result.lines, result.new, result.matched, result.unmatched, result.skipped) == (3, 3, 2, 0, 1)
    assert _status(ausweis) == _status(pass_) == "succeeded"
    assert db.session.get(Payment, ausweis.id).method == "bank_transfer"
    lines = _lines()
    assert [(line.status, line.amount_cents, line.direction) for line in lines] == [
        ("matched", 3700, "credit"),
        ("matched", 7000, "credit"),
        ("ignored", 123456, "debit"),
    ]
    assert lines[1].remitter_name == "Max Müller" and lines[0].bank_reference == "2026112700001"
    paid = [e for e in _events("payment.status_changed") if e["new"] == "succeeded"]
    assert {e["reason"] for e in paid} == {"bank_transfer"}
    assert {e["bank_line_id"] for e in paid} == {lines[0].id, lines[1].id}
    imported = _events("payment.statement_imported")
    assert len(imported) == 1 and imported[0]["matched"] == 2


def test_a_windows_1252_export_with_tabs_and_a_trailing_minus_is_read_too(app, treasurer):
    payment = make_payment(amount_cents=123456)
    text = (
        "Buchungsdatum\tWertstellung\tAuftraggeber\tVerwendungszweck\tBetrag (EUR)\tBuchungsreferenz\r\n"
        f"27.11.26\t27.11.26\tJörg Größe\tKZ {payment.kassenzeichen}\t1.234,56\tA1\r\n"
        "27.11.26\t27.11.26\tGebühren\tKontoführung\t9,90-\tA2\r\n"
    )
    result = statements.import_statement(treasurer, "export.csv", text.encode("cp1252"))
    assert (result.new, result.matched) == (2, 1)
    assert _status(payment) == "succeeded"
    assert _lines()[0].remitter_name == "Jörg Größe"
    assert (_lines()[1].direction, _lines()[1].amount_cents) == ("debit", 990)


@pytest.mark.parametrize("version", ["02", "08"])
def test_a_camt053_statement_is_imported_and_matched(app, treasurer, version):
    first = make_payment(amount_cents=3700)
    second = make_payment(amount_cents=7000, case_reference="T-2026-000002")
    kz = _kz(first)
    entries = "\n".join(
        [
            # The bank cut the remittance into 35-character lines, right through the Kassenzeichen.
            camt_entry("37.00", ["Personalausweis Kassenzeichen " + kz[:8], kz[8:]], reference="R1", version=version),
            camt_entry("70.00", [f"Reisepass {second.kassenzeichen}"], reference="R2", version=version),
            camt_entry("70.00", [f"Reisepass {second.kassenzeichen}"], reference="R3", status="PDNG", version=version),
            camt_entry("12.00", ["Porto"], reference="R4", indicator="DBIT", version=version),
        ]
    )
    result = statements.import_statement(treasurer, "auszug.xml", camt053(entries, version))
    assert (result.lines, result.new, result.matched, result.skipped) == (3, 3, 2, 1)  # the pending one waits
    assert _status(first) == _status(second) == "succeeded"
    line = _lines()[0]
    assert (line.account_iban, line.booking_date, line.bank_reference) == (ACCOUNT, date(2026, 11, 27), "R1")
    assert line.remitter_name == "Erika Mustermann" and line.remitter_iban == "DE89370400440532013000"
    statement = db.session.scalar(sa.select(BankStatement))
    assert (statement.format, statement.statement_reference) == ("camt053", "2026-11-27-231")


def test_a_batch_entry_is_split_into_its_transactions(app, treasurer):
    one, two = make_payment(amount_cents=1000), make_payment(amount_cents=2500, case_reference="T-2026-000002")
    batch = f"""      <Ntry>
        <Amt Ccy="EUR">35.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-27</Dt></BookgDt><AcctSvcrRef>SAMMLER-7</AcctSvcrRef>
        <NtryDtls>
          <TxDtls><Amt Ccy="EUR">10.00</Amt><RmtInf><Ustrd>KZ {one.kassenzeichen}</Ustrd></RmtInf></TxDtls>
          <TxDtls><Amt Ccy="EUR">25.00</Amt><RmtInf><Ustrd>KZ {two.kassenzeichen}</Ustrd></RmtInf></TxDtls>
        </NtryDtls>
      </Ntry>"""
    result = statements.import_statement(treasurer, "sammler.xml", camt053(batch))
    assert (result.new, result.matched) == (2, 2)
    assert [line.bank_reference for line in _lines()] == ["SAMMLER-7/1", "SAMMLER-7/2"]


def test_importing_the_same_statement_again_books_nothing_twice(app, treasurer):
    payment = make_payment(amount_cents=3700)
    other = make_payment(amount_cents=5000, case_reference="T-2026-000002")
    rows = [
        ("27.11.2026", "Erika Mustermann", f"Kassenzeichen {_kz(payment)}", "37,00"),
        ("27.11.2026", "Unbekannt", "Spende", "5,00"),
    ]
    statements.import_statement(treasurer, "a.csv", german_csv(rows))
    again = statements.import_statement(treasurer, "a.csv", german_csv(rows))
    assert (again.lines, again.new, again.duplicates, again.matched) == (2, 0, 2, 0)
    # A later export overlapping the first one: only the booking that is new is stored and matched.
    longer = statements.import_statement(
        treasurer, "b.csv", german_csv([*rows, ("28.11.2026", "Firma X", f"KZ {_kz(other)}", "50,00")])
    )
    assert (longer.new, longer.duplicates, longer.matched) == (1, 2, 1)
    assert len(_lines()) == 3
    assert len([e for e in _events("payment.status_changed") if e["new"] == "succeeded"]) == 2


def test_two_equal_transfers_without_a_bank_reference_are_two_bookings_once(app, treasurer):
    rows = [("27.11.2026", "Erika Mustermann", "Spende Tierheim", "20,00")] * 2
    first = statements.import_statement(treasurer, "a.csv", german_csv(rows, with_reference=False))
    again = statements.import_statement(treasurer, "a.csv", german_csv(rows, with_reference=False))
    assert (first.new, again.new) == (2, 0)


def test_what_cannot_be_matched_safely_waits_with_its_reason(app, treasurer):
    typo = make_payment(amount_cents=3700)
    short = make_payment(amount_cents=7000, case_reference="T-2026-000002")
    paid_online = make_paid_payment(amount_cents=2500, case_reference="T-2026-000003")
    twice = make_payment(amount_cents=1500, case_reference="T-2026-000004")
    rows = [
        ("27.11.2026", "A", f"Kassenzeichen {format_kassenzeichen(_typo(typo.kassenzeichen))}", "37,00"),
        ("27.11.2026", "B", f"Kassenzeichen {_kz(short)}", "60,00"),
        ("27.11.2026", "C", f"Kassenzeichen {_kz(paid_online)}", "25,00"),
        ("27.11.2026", "D", f"KZ {twice.kassenzeichen}", "15,00"),
        ("27.11.2026", "D", f"KZ {twice.kassenzeichen} nochmal", "15,00"),
        ("27.11.2026", "E", "Rechnung 4711 vom 20.11.2026", "99,00"),
    ]
    result = statements.import_statement(treasurer, "x.csv", german_csv(rows))
    assert (result.matched, result.unmatched) == (1, 5)
    assert [(line.status, line.reason) for line in _lines()] == [
        ("unmatched", "invalid_kassenzeichen"),
        ("unmatched", "amount_differs"),
        ("unmatched", "already_paid"),
        ("matched", None),
        ("unmatched", "already_paid"),
        ("unmatched", "no_kassenzeichen"),
    ]
    assert (_status(typo), _status(short), _status(twice)) == ("created", "created", "succeeded")
    assert db.session.get(Payment, paid_online.id).method == "card"  # the online payment is left as it was


def test_a_valid_kassenzeichen_nobody_issued_is_unknown(app, treasurer):
    issued = make_payment()
    body = issued.kassenzeichen[:5] + "999998"
    foreign = body + check_digits(body)
    statements.import_statement(treasurer, "x.csv", german_csv([("27.11.2026", "A", f"KZ {foreign}", "37,00")]))
    line = _lines()[0]
    assert (line.status, line.reason, line.kassenzeichen) == ("unmatched", "unknown_kassenzeichen", foreign)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("Kassenzeichen 26 100 000042 84", ["2610000004284"]),
        ("KZ:2610000004284 Ausweis", ["2610000004284"]),
        ("26.100.000042.84", ["2610000004284"]),
        ("vom 27.11.2026 2610000004284", ["2610000004284"]),  # a date right before it
        ("26 100 000042 84 5 Stück", ["2610000004284"]),
        ("IBAN DE02120300000000202051", []),  # a long run is never cut apart
        ("Kassenzeichen 26 100 000043 84", []),  # a typo
    ],
)
def test_kassenzeichen_are_found_in_remittance_texts(text, valid):
    assert statements.kassenzeichen_candidates(text)[0] == valid


def test_amounts_are_read_the_way_banks_write_them():
    assert [statements.parse_amount(t) for t in ("37,00", "-1.234,56", "1.234", "37.5", "1,234.50", "9,90-", "+5")] == [
        3700,
        -123456,
        123400,
        3750,
        123450,
        -990,
        500,
    ]
    with pytest.raises(ValueError):
        statements.parse_amount("37,001")


# --- refused files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"Datum,Text\n1,2\n", "csv_header_missing"),
        (b"Buchungstag;Betrag\n27.11.2026;viel\n", "csv_line_unreadable"),
        (b"Buchungstag;Betrag\n99.99.2026;1,00\n", "csv_line_unreadable"),
        (b"\x00\x01PK binary", "not_csv"),
        # Neither UTF-8 nor Windows-1252 (0x81 is undefined there): found by the fuzz stage as a 500.
        (b"Buchungstag;Betrag\n27.11.2026;1,00 \x81\x9d\n", "not_csv"),
        (b"<Document><unclosed></Document>", "xml_malformed"),
        (
            b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>',
            "camt_unsupported",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&lol2;</Document>',
            "xml_doctype",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&xxe;</Document>',
            "xml_doctype",
        ),
    ],
)
def test_a_file_that_is_no_statement_is_refused_and_nothing_is_stored(app, treasurer, data, code):
    with pytest.raises(PaymentError) as refused:
        statements.import_statement(treasurer, "x", data)
    assert refused.value.code == code
    assert db.session.scalar(sa.select(sa.func.count(BankStatement.id))) == 0


def test_a_statement_with_too_many_lines_is_refused(app, treasurer, monkeypatch):
    from payments.services import statement_formats

    monkeypatch.setattr(statement_formats, "MAX_LINES", 2)  # the limit lives with the parsers
    rows = [("27.11.2026", "A", "x", "1,00")] * 3
    with pytest.raises(PaymentError) as refused:
        statements.import_statement(treasurer, "x.csv", german_csv(rows))
    assert refused.value.code == "too_many_lines"


def test_only_the_treasury_imports_statements(app):
    clerk = Actor.for_user(make_user("clerk@stadt.example", roles=("platform_admin",)))
    with pytest.raises(Forbidden):
        statements.import_statement(clerk, "x.csv", german_csv([]))


# --- deciding by hand -------------------------------------------------------------------------------------


def _one_unmatched(treasurer: Actor, text: str, amount: str) -> BankStatementLine:
    statements.import_statement(treasurer, "x.csv", german_csv([("27.11.2026", "Erika", text, amount)]))
    line = _lines()[-1]
    assert line.status == "unmatched"
    return line


def test_the_treasury_assigns_an_unmatched_transfer_and_it_is_audited(app, treasurer):
    payment = make_payment(amount_cents=3700)
    line = _one_unmatched(treasurer, "Ausweis Erika Mustermann", "37,00")
    statements.assign_line(treasurer, line.id, _kz(payment))
    db.session.expire_all()
    line = db.session.get(BankStatementLine, line.id)
    assert (line.status, line.payment_id, line.decided_by) == ("assigned", payment.id, treasurer.user.id)
    assert _status(payment) == "succeeded"
    assigned = _events("payment.bank_line_assigned")
    assert len(assigned) == 1 and assigned[0]["previous_reason"] == "no_kassenzeichen"
    assert assigned[0]["_actor"] == str(treasurer.user.id)
    changed = [e for e in _events("payment.status_changed") if e["new"] == "succeeded"]
    assert changed[0]["by_hand"] is True
    assert statements.unmatched_lines(treasurer) == []


def test_a_different_amount_needs_a_note_and_a_paid_order_cannot_take_a_second_transfer(app, treasurer):
    payment = make_payment(amount_cents=3700)
    line = _one_unmatched(treasurer, f"Kassenzeichen {_kz(payment)}", "35,00")
    with pytest.raises(PaymentError) as no_note:
        statements.assign_line(treasurer, line.id, payment.kassenzeichen)
    assert no_note.value.code == "note_required"
    assert _status(payment) == "created"
    statements.assign_line(treasurer, line.id, payment.kassenzeichen, "Rest von 2 € erlassen (Bescheid 12/26)")
    assert _status(payment) == "succeeded"
    with pytest.raises(PaymentError) as decided:
        statements.assign_line(treasurer, line.id, payment.kassenzeichen, "noch mal")
    assert decided.value.code == "already_decided"
    second = _one_unmatched(treasurer, f"Kassenzeichen {_kz(payment)}", "37,00")
    assert second.reason == "already_paid"
    with pytest.raises(PaymentError) as paid:
        statements.assign_line(treasurer, second.id, payment.kassenzeichen, "x")
    assert (paid.value.code, paid.value.status) == ("already_paid", 409)
    with pytest.raises(PaymentError) as typo:
        statements.assign_line(treasurer, second.id, _typo(payment.kassenzeichen), "x")
    assert typo.value.code == "invalid_kassenzeichen"


def test_a_transfer_that_is_not_ours_is_marked_for_return_with_a_reason(app, treasurer):
    line = _one_unmatched(treasurer, "Miete Dezember", "750,00")
    with pytest.raises(PaymentError) as no_reason:
        statements.mark_returned(treasurer, line.id, "  ")
    assert no_reason.value.code == "note_required"
    statements.mark_returned(treasurer, line.id, "Fehlüberweisung, Rücküberweisung veranlasst")
    db.session.expire_all()
    line = db.session.get(BankStatementLine, line.id)
    assert (line.status, line.note) == ("returned", "Fehlüberweisung, Rücküberweisung veranlasst")
    returned = _events("payment.bank_line_returned")
    assert len(returned) == 1 and returned[0]["amount_cents"] == 75000


# --- the treasury's pages ---------------------------------------------------------------------------------


def _sign_in(auth, user) -> None:
    auth.login(user.email)
    assert auth.totp(user).status_code in (302, 303)


def test_the_treasury_uploads_a_statement_and_assigns_what_is_left_on_the_pages(app, client, auth):
    person = make_treasurer()
    paid_by_import = make_payment(amount_cents=3700)
    left_over = make_payment(amount_cents=7000, case_reference="T-2026-000002")
    _sign_in(auth, person)
    page = client.get("/admin/kasse/kontoauszuege")
    assert page.status_code == 200 and 'type="file"' in page.text
    data = german_csv(
        [
            ("27.11.2026", "Erika", f"Kassenzeichen {_kz(paid_by_import)}", "37,00"),
            ("27.11.2026", "Max", "Reisepass Max Mustermann", "70,00"),
        ]
    )
    uploaded = client.post(
        "/admin/kasse/kontoauszuege",
        data={"csrf_token": csrf_from(page.text), "statement": (io.BytesIO(data), "umsaetze.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert uploaded.status_code == 200
    assert "2 neue Buchungen, davon 1 automatisch zugeordnet und 1 offen" in uploaded.text
    open_list = client.get("/admin/kasse/kontoauszuege/offen").text
    assert "Reisepass Max Mustermann" in open_list and "Kein Kassenzeichen im Verwendungszweck" in open_list
    line = _lines()[1]
    found = client.get(f"/admin/kasse/kontoauszuege/posten/{line.id}?kassenzeichen={_kz(left_over)}")
    assert "Gefundene Zahlung" in found.text and _kz(left_over) in found.text
    assigned = client.post(
        f"/admin/kasse/kontoauszuege/posten/{line.id}/zuordnen",
        data={"csrf_token": csrf_from(found.text), "kassenzeichen": left_over.kassenzeichen, "note": ""},
    )
    assert assigned.status_code == 303
    assert _status(left_over) == "succeeded"
    assert "Keine offenen Posten" in client.get("/admin/kasse/kontoauszuege/offen").text


def test_a_refused_upload_is_explained_on_the_page(app, client, auth):
    _sign_in(auth, make_treasurer())
    page = client.get("/admin/kasse/kontoauszuege")
    refused = client.post(
        "/admin/kasse/kontoauszuege",
        data={"csrf_token": csrf_from(page.text), "statement": (io.BytesIO(b"Datum,Text\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "Kopfzeile" in refused.text and 'aria-invalid="true"' in refused.text


def test_the_statement_pages_are_for_the_treasury_only(app, client, auth):
    clerk = make_user("clerk@stadt.example", roles=("moderator",), totp=True)
    _sign_in(auth, clerk)
    for path in ("/admin/kasse/kontoauszuege", "/admin/kasse/kontoauszuege/offen", "/admin/kasse/tagesabschluss"):
        assert client.get(path).status_code == 403, path
