"""Citizen-verifiable audit entries: /konto/protokoll/<seq> shows an event's place in the chain and the signed
checkpoint covering it, and nachweis.json is checked offline by tools/verify_audit_proof.py."""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.actors import SYSTEM, Actor
from portal.audit import checkpoints
from portal.audit import services as audit
from portal.audit.chain import canonical_json, chain_hash
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction
from tests.builders import make_user
from tests.portal.audit.helpers import record_events, seal, sign_in, tamper

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tools" / "verify_audit_proof.py"


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "AUDIT_PUBLIC_KEY_FILE": str(tmp_path / "audit-public-keys.pem")}


@pytest.fixture
def anna(app):
    return make_user("anna@example.org", display_name="Anna")


@pytest.fixture
def ben(app):
    return make_user("ben@example.org", display_name="Ben")


def anna_events(anna, count: int) -> list[int]:
    """`count` events about Anna, returning their seq numbers."""
    seqs = []
    for i in range(count):
        with transaction():
            seqs.append(
                audit.record_now("account.login", SYSTEM, subject_user_id=anna.id, method="password", note=f"„{i}“").seq
            )
    return seqs


def page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def download(client, seq: int, tmp_path: Path) -> tuple[dict, Path]:
    response = client.get(f"/konto/protokoll/{seq}/nachweis.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="nachweis-{seq}.json"'
    assert response.headers["Cache-Control"] == "no-store"
    path = tmp_path / f"nachweis-{seq}.json"
    path.write_bytes(response.data)
    return json.loads(response.data), path


def run_tool(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def public_key_file(app, tmp_path: Path) -> Path:
    """The city's public key as an auditor would hold it: one PEM, obtained separately."""
    path = tmp_path / "city-public-key.pem"
    path.write_text(Path(app.config["AUDIT_PUBLIC_KEY_FILE"]).read_text())
    return path


# --- the citizen's list ------------------------------------------------------------------------------------


def test_every_row_of_the_citizen_log_links_to_its_proof(client, anna):
    seqs = anna_events(anna, 3)
    sign_in(client, anna)

    _status, html = page(client, "/konto/protokoll")
    for seq in seqs:
        assert f'href="/konto/protokoll/{seq}"' in html
    assert len(re.findall(r'href="/konto/protokoll/\d+"', html)) == 3
    assert html.count("zu Eintrag Nr.") == 3  # each link names its row for screen readers


def test_purpose_legal_basis_and_department_are_shown_in_words(app, client, anna):
    from portal.audit import registry
    from tests.builders import make_department

    registry.declare("zz_test.record_viewed", [registry.PURPOSE, registry.LEGAL_BASIS, registry.DEPARTMENT_ID])
    department = make_department("sozialamt", "Sozialamt")
    clerk = make_user("clerk@example.org", display_name="Clara")
    try:
        with transaction():
            audit.record(
                "zz_test.record_viewed",
                Actor.for_user(clerk),
                subject_user_id=anna.id,
                purpose="Prüfung Ihres Antrags auf Wohngeld",
                legal_basis="§ 20 SGB X",
                department_id=department.id,
            )
            # An office that no longer exists: the name recorded at the time is shown instead.
            audit.record(
                "zz_test.record_viewed",
                Actor.for_user(clerk),
                subject_user_id=anna.id,
                purpose="Rückfrage",
                legal_basis="Art. 6 Abs. 1 lit. e DSGVO",
                department_id=department.id + 999,
                department="Ordnungsamt (aufgelöst)",
            )
    finally:
        registry._ACTIONS.pop("zz_test.record_viewed")
    sign_in(client, anna)

    _s, html = page(client, "/konto/protokoll")
    assert "Zweck: Prüfung Ihres Antrags auf Wohngeld" in html
    assert "Rechtsgrundlage: § 20 SGB X" in html
    assert "Amt: Sozialamt" in html
    assert "Amt: Ordnungsamt (aufgelöst)" in html
    assert "department_id" not in html

    first = db.session.scalar(sa.select(sa.func.min(AuditEvent.seq)).where(AuditEvent.subject_user_id == anna.id))
    _s, html = page(client, f"/konto/protokoll/{first}")
    assert "<dt" in html and "Zweck" in html and "Prüfung Ihres Antrags auf Wohngeld" in html
    assert "Rechtsgrundlage" in html and "§ 20 SGB X" in html
    assert "Sozialamt" in html


def test_well_known_detail_keys_of_the_wrong_type_are_refused(app, anna):
    with pytest.raises(ValueError, match="purpose"), transaction():
        audit.record("account.login", SYSTEM, subject_user_id=anna.id, method="password", purpose="  ")
    with pytest.raises(ValueError, match="department_id"), transaction():
        audit.record("account.login", SYSTEM, subject_user_id=anna.id, method="password", department_id="3")


def test_citizen_log_needs_the_same_few_queries_for_a_full_page_with_many_departments(app, client, anna):
    from portal.audit import registry
    from tests.builders import make_department

    registry.declare("zz_test.viewed", [])
    departments = [make_department(f"amt-{i}", f"Amt {i}") for i in range(12)]

    def add(count: int) -> None:
        with transaction():
            for i in range(count):
                audit.record(
                    "zz_test.viewed",
                    SYSTEM,
                    subject_user_id=anna.id,
                    purpose="Prüfung",
                    legal_basis="§ 1",
                    department_id=departments[i % len(departments)].id,
                )

    def queries_for(url: str) -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    try:
        sign_in(client, anna)
        add(1)
        few = queries_for("/konto/protokoll")
        add(24)
        many = queries_for("/konto/protokoll")
    finally:
        registry._ACTIONS.pop("zz_test.viewed")
    assert many == few
    _s, html = page(client, "/konto/protokoll")
    assert "Amt: Amt 11" in html


# --- the detail page ---------------------------------------------------------------------------------------


def test_proof_page_needs_sign_in(client, anna):
    [seq] = anna_events(anna, 1)
    response = client.get(f"/konto/protokoll/{seq}")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]


def test_another_persons_event_and_an_unknown_seq_are_not_found(app, client, runner, anna, ben):
    [bens] = anna_events(ben, 1)
    [annas] = anna_events(anna, 1)
    record_events(1)  # about nobody
    seal(app, runner)
    sign_in(client, anna)

    assert client.get(f"/konto/protokoll/{annas}").status_code == 200
    for seq in (bens, annas + 1, 999_999):
        assert client.get(f"/konto/protokoll/{seq}").status_code == 404
        assert client.get(f"/konto/protokoll/{seq}/nachweis.json").status_code == 404


def test_event_after_the_latest_checkpoint_will_be_sealed_with_the_next_one(app, client, runner, anna):
    anna_events(anna, 2)
    seal(app, runner)
    [late] = anna_events(anna, 1)
    sign_in(client, anna)

    status, html = page(client, f"/konto/protokoll/{late}")
    assert status == 200
    assert "wird mit dem nächsten Prüfpunkt (alle paar Minuten) versiegelt" in html
    assert "nachweis.json" not in html
    assert client.get(f"/konto/protokoll/{late}/nachweis.json").status_code == 404
    event = db.session.get(AuditEvent, late)
    assert event.hash in html and event.prev_hash in html  # its place in the chain is shown all the same


@pytest.mark.parametrize(("position", "leaf"), [("first", 0), ("middle", 3), ("last", 6)])
def test_proof_for_first_middle_and_last_leaf_of_an_odd_range_verifies_offline(
    app, client, runner, anna, tmp_path, position, leaf
):
    seqs = anna_events(anna, 7)  # seq 1..7: a tree of seven leaves
    checkpoint = seal(app, runner)
    assert (checkpoint.first_seq, checkpoint.tree_size) == (1, 7)
    seq = seqs[leaf]
    sign_in(client, anna)

    status, html = page(client, f"/konto/protokoll/{seq}")
    assert status == 200
    assert f"Blatt {leaf} von 7" in html
    assert checkpoint.merkle_root in html and checkpoint.signature in html and checkpoint.key_id in html
    assert "Eintrag Nr. 1 bis Nr. 7 (7 Einträge)" in html
    assert "Nachweis herunterladen" in html
    assert "gültig" in html  # the server checked the signature with the configured public key

    document, path = download(client, seq, tmp_path)
    assert document["inclusion_proof"]["leaf_index"] == leaf
    assert document["event"]["seq"] == seq
    result = run_tool(path, public_key_file(app, tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(f"OK: event {seq} is in the signed audit trail")


def test_download_lets_anyone_recompute_the_hash_from_the_fields_shown(app, client, runner, anna, tmp_path):
    [seq] = anna_events(anna, 1)
    seal(app, runner)
    sign_in(client, anna)

    document, _path = download(client, seq, tmp_path)
    event = db.session.get(AuditEvent, seq)
    assert chain_hash(document["prev_hash"], canonical_json(document["event"])) == document["hash"] == event.hash
    assert document["checkpoint"]["statement"] == checkpoints.statement_of(db.session.get(AuditCheckpoint, 1)).decode()
    assert document["public_key"]["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "unabhängig" in document["public_key"]["note"]
    # A checkpoint of one event: the leaf is the root, the path empty.
    assert document["inclusion_proof"]["audit_path"] == []
    _s, html = page(client, f"/konto/protokoll/{seq}")
    assert "der Prüfpfad ist leer" in html


def test_event_in_a_later_checkpoint_range_is_proven_against_that_checkpoint(app, client, runner, anna, tmp_path):
    anna_events(anna, 3)
    seal(app, runner)  # 1..3, its own event is seq 4
    seqs = anna_events(anna, 4)  # 5..8
    second = seal(app, runner)  # 4..8
    assert (second.first_seq, second.tree_size) == (4, 5)
    sign_in(client, anna)

    _document, path = download(client, seqs[2], tmp_path)
    result = run_tool(path, public_key_file(app, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "leaf 3 of the 5 events 4 to 8" in result.stdout
    assert runner.invoke(args=["audit", "verify", "--quiet"]).exit_code == 0


@pytest.mark.parametrize(
    ("change", "step"),
    [
        ("detail", "1 event hash"),
        ("detail_and_hash", "4 audit path"),
        ("sibling", "4 audit path"),
        ("root", "4 audit path"),
        ("tree_size", "2 range"),
        ("wrong_key", "5 key"),
        ("signature", "6 signature"),
        ("signed_at", "6 signature"),
    ],
)
def test_tampered_proofs_fail_offline_naming_the_step(app, client, runner, anna, tmp_path, change, step):
    seqs = anna_events(anna, 5)
    seal(app, runner)
    sign_in(client, anna)
    document, _path = download(client, seqs[1], tmp_path)
    key = public_key_file(app, tmp_path)
    forged = copy.deepcopy(document)
    if change == "detail":
        forged["event"]["details"] = forged["event"]["details"].replace("password", "oidc")
    elif change == "detail_and_hash":  # consistent on its own, but no longer the leaf the city signed
        forged["event"]["details"] = forged["event"]["details"].replace("password", "oidc")
        forged["hash"] = chain_hash(forged["prev_hash"], canonical_json(forged["event"]))
        forged["inclusion_proof"].pop("leaf_hash")
    elif change == "sibling":
        first = forged["inclusion_proof"]["audit_path"][0]
        forged["inclusion_proof"]["audit_path"][0] = ("0" if first[0] != "0" else "1") + first[1:]
    elif change == "root":
        forged["checkpoint"]["merkle_root"] = "ab" * 32
    elif change == "tree_size":
        forged["checkpoint"]["tree_size"] += 1
        forged["inclusion_proof"]["tree_size"] += 1
    elif change == "wrong_key":
        other = checkpoints.generate_key_file(tmp_path / "other-private.pem")
        key = tmp_path / "other-public.pem"
        key.write_text(checkpoints.public_key_pem(other.public_key()))
    elif change == "signature":
        raw = bytearray(base64.b64decode(forged["checkpoint"]["signature"]))
        raw[5] ^= 0x01
        forged["checkpoint"]["signature"] = base64.b64encode(bytes(raw)).decode()
    elif change == "signed_at":
        forged["checkpoint"]["signed_at"] = "2020-01-01T00:00:00.000000Z"
        forged["checkpoint"].pop("statement")
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged, ensure_ascii=False))

    assert run_tool(tmp_path / f"nachweis-{seqs[1]}.json", public_key_file(app, tmp_path)).returncode == 0
    result = run_tool(path, key)
    assert result.returncode == 1
    assert result.stderr.startswith(f"FAILED at step {step}:"), result.stderr
    assert "OK" not in result.stdout


def test_without_a_key_file_the_tool_uses_the_embedded_key_and_warns(app, client, runner, anna, tmp_path):
    [seq] = anna_events(anna, 1)
    seal(app, runner)
    sign_in(client, anna)
    _document, path = download(client, seq, tmp_path)

    result = run_tool(path)
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr


def test_v1_checkpoint_shows_the_chain_position_but_no_inclusion_proof(app, client, runner, anna):
    seqs = anna_events(anna, 3)
    # A checkpoint signed before revision 0011: the v1 statement, no range, no root.
    key, _created = checkpoints.load_or_create_private_key(app.config["AUDIT_SIGNING_KEY_FILE"])
    last = db.session.get(AuditEvent, seqs[-1])
    signed_at = utcnow()
    db.session.add(
        AuditCheckpoint(
            seq=last.seq,
            hash=last.hash,
            signed_at=signed_at,
            key_id=checkpoints.key_id_of(key.public_key()),
            signature=base64.b64encode(key.sign(checkpoints.statement(last.seq, last.hash, signed_at))).decode(),
        )
    )
    db.session.commit()
    [later] = anna_events(anna, 1)
    seal(app, runner)  # a v2 checkpoint over the events after the v1 one
    sign_in(client, anna)

    status, html = page(client, f"/konto/protokoll/{seqs[0]}")
    assert status == 200
    assert "Kein Einzelnachweis für diesen Eintrag" in html
    assert "die Kette bis Eintrag Nr. 3" in html
    assert "Nachweis herunterladen" not in html
    assert client.get(f"/konto/protokoll/{seqs[0]}/nachweis.json").status_code == 404

    v2 = db.session.scalars(sa.select(AuditCheckpoint).where(AuditCheckpoint.merkle_root.is_not(None))).one()
    assert (v2.first_seq, v2.seq) == (4, later)
    assert client.get(f"/konto/protokoll/{later}/nachweis.json").status_code == 200
    result = runner.invoke(args=["audit", "verify", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "2 checkpoints verified" in result.stdout


def test_proof_page_says_so_when_the_stored_events_no_longer_lead_to_the_signed_root(app, client, runner, anna):
    seqs = anna_events(anna, 5)
    seal(app, runner)
    tamper("UPDATE audit_event SET hash = :h WHERE seq = :s", h="0" * 64, s=seqs[1])
    sign_in(client, anna)

    status, html = page(client, f"/konto/protokoll/{seqs[3]}")
    assert status == 200
    assert "Der Nachweis passt nicht zum Prüfpunkt" in html
    assert client.get(f"/konto/protokoll/{seqs[3]}/nachweis.json").status_code == 404


def test_a_keys_file_with_current_and_retired_keys_serves_proofs_and_verify_alike(app, client, runner, anna, tmp_path):
    import os

    [old_seq] = anna_events(anna, 1)
    old_checkpoint = seal(app, runner)
    old_pem = Path(app.config["AUDIT_PUBLIC_KEY_FILE"]).read_text()
    os.rename(app.config["AUDIT_SIGNING_KEY_FILE"], tmp_path / "retired-key.pem")
    assert runner.invoke(args=["audit", "keygen"]).exit_code == 0
    [new_seq] = anna_events(anna, 1)
    new_checkpoint = seal(app, runner)
    keys_file = Path(app.config["AUDIT_PUBLIC_KEY_FILE"])
    keys_file.write_text(keys_file.read_text() + old_pem)
    assert old_checkpoint.key_id != new_checkpoint.key_id
    sign_in(client, anna)

    for seq, checkpoint in ((old_seq, old_checkpoint), (new_seq, new_checkpoint)):
        document, path = download(client, seq, tmp_path)
        assert document["public_key"]["key_id"] == checkpoint.key_id
        single = tmp_path / f"key-{seq}.pem"
        single.write_text(document["public_key"]["pem"])
        assert run_tool(path, single).returncode == 0
    os.remove(app.config["AUDIT_SIGNING_KEY_FILE"])  # an auditor's machine: the keys file alone
    result = runner.invoke(args=["audit", "verify", "--quiet", "--public-key", str(keys_file)])
    assert result.exit_code == 0, result.output
    assert "2 checkpoints verified" in result.stdout


def test_proof_pages_are_rate_limited(client, anna):
    [seq] = anna_events(anna, 1)
    sign_in(client, anna)
    statuses = [client.get(f"/konto/protokoll/{seq}").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
