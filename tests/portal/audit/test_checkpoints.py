"""Signed checkpoints: made with a key outside the database, checked by verify with the public key alone."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from portal.audit.chain import GENESIS_HASH
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.extensions import db
from tests.portal.audit.helpers import checkpoint, record_events, rehash_from, tamper, verify


def test_keygen_writes_a_key_only_its_owner_can_read_and_never_replaces_it(app, runner):
    key_file = Path(app.config["AUDIT_SIGNING_KEY_FILE"])

    first = runner.invoke(args=["audit", "keygen"])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    original = key_file.read_bytes()

    second = runner.invoke(args=["audit", "keygen"])
    assert second.exit_code != 0
    assert "exists already" in second.output
    assert key_file.read_bytes() == original


def test_checkpoint_creates_a_missing_key_with_mode_0600(app, runner):
    record_events(2)
    result = checkpoint(runner)

    key_file = app.config["AUDIT_SIGNING_KEY_FILE"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "Created the signing key" in result.stderr


def test_checkpoint_covers_the_chain_up_to_the_event_before_its_own(app, runner):
    record_events(5)
    checkpoint(runner)

    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert row.seq == 5
    assert row.hash == events[4].hash
    own = events[5]
    assert (own.seq, own.action, own.actor_type) == (6, "audit.checkpoint", "system")
    assert (own.target_type, own.target_id) == ("audit_checkpoint", str(row.id))
    assert (row.first_seq, row.tree_size, row.version) == (1, 5, 2)
    assert json.loads(own.details) == {
        "seq": 5,
        "hash": row.hash,
        "key_id": row.key_id,
        "first_seq": 1,
        "tree_size": 5,
        "merkle_root": row.merkle_root,
    }

    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "6 events checked, 1 checkpoints verified" in result.stdout


def test_checkpoint_of_an_empty_trail_signs_the_genesis(app, runner):
    checkpoint(runner)
    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    assert (row.seq, row.hash) == (0, GENESIS_HASH)

    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "1 events checked, 1 checkpoints verified" in result.stdout


def test_auditor_verifies_with_the_exported_public_key_alone(app, runner, tmp_path):
    record_events(3)
    checkpoint(runner)
    public_file = tmp_path / "audit-public-key.pem"
    exported = runner.invoke(args=["audit", "public-key", "--output", str(public_file)])
    assert exported.exit_code == 0, exported.output
    pem = public_file.read_text()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in pem

    # The documented statement, checked with nothing but the public key and the stored row.
    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    public_key = serialization.load_pem_public_key(pem.encode())
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert row.key_id == hashlib.sha256(raw).hexdigest()[:16]
    signed_at = row.signed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = (
        f"stadtportal-audit-checkpoint v2\nseq={row.seq}\nhash={row.hash}\nsigned_at={signed_at}"
        f"\nfirst_seq=1\ntree_size=3\nmerkle_root={row.merkle_root}"
    )
    public_key.verify(base64.b64decode(row.signature), text.encode())  # raises if invalid

    os.remove(app.config["AUDIT_SIGNING_KEY_FILE"])
    result = verify(runner, "--public-key", str(public_file))
    assert result.exit_code == 0, result.output
    assert "1 checkpoints verified" in result.stdout


def test_tampered_checkpoint_signature_fails_verify(app, runner):
    record_events(3)
    checkpoint(runner)
    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    forged = bytearray(base64.b64decode(row.signature))
    forged[0] ^= 0x01
    db.session.rollback()
    # Past the append-only triggers, as only the database superuser could.
    tamper("UPDATE audit_checkpoint SET signature = :s WHERE id = :i", s=base64.b64encode(forged).decode(), i=row.id)

    result = verify(runner)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"checkpoint {row.id} signature invalid"


def test_checkpoint_moved_to_another_hash_fails_its_signature(app, runner):
    record_events(3)
    checkpoint(runner)
    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    other = db.session.get(AuditEvent, 2).hash
    db.session.rollback()
    tamper("UPDATE audit_checkpoint SET seq = 2, hash = :h", h=other)

    result = verify(runner)
    assert result.exit_code == 1
    assert f"checkpoint {row.id} signature invalid" in result.stderr


def test_rewritten_and_rehashed_chain_is_caught_by_the_checkpoint(app, runner):
    record_events(5)
    checkpoint(runner)
    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    tamper("UPDATE audit_event SET outcome = 'failure' WHERE seq = 2")
    rehash_from(2)  # every hash and link is consistent again; only the signed checkpoint disagrees

    result = verify(runner)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"checkpoint {row.id} does not match the chain at seq 5"


def test_cut_off_tail_is_caught_by_the_checkpoint(app, runner):
    record_events(5)
    checkpoint(runner)
    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    tamper("DELETE FROM audit_event WHERE seq >= 4")

    result = verify(runner)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"checkpoint {row.id} covers seq 5 but the chain ends at seq 3"


def test_checkpoint_signed_with_an_unknown_key_fails(app, runner, tmp_path):
    record_events(2)
    checkpoint(runner)
    other = tmp_path / "other.pem"
    from portal.audit.checkpoints import generate_key_file, public_key_pem

    other.write_text(public_key_pem(generate_key_file(tmp_path / "other-private.pem").public_key()))
    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    os.remove(app.config["AUDIT_SIGNING_KEY_FILE"])  # an auditor's machine: only the (wrong) public key

    result = verify(runner, "--public-key", str(other))
    assert result.exit_code == 1
    assert f"checkpoint {row.id} signed with unknown key {row.key_id}" in result.stderr


def test_public_key_without_a_signing_key_explains_what_to_do(runner):
    result = runner.invoke(args=["audit", "public-key"])
    assert result.exit_code != 0
    assert "flask audit keygen" in result.output


def test_checkpoints_between_writes_all_verify(app, runner):
    rounds = 3
    for _ in range(rounds):
        record_events(4)
        checkpoint(runner)

    result = verify(runner, "--batch-size", "5")
    assert result.exit_code == 0, result.output
    assert f"{rounds * 5} events checked, {rounds} checkpoints verified" in result.stdout


def test_checkpoints_from_before_a_key_rotation_verify_with_the_old_public_key(app, runner, tmp_path):
    record_events(2)
    checkpoint(runner)
    old_public = tmp_path / "old-public.pem"
    assert runner.invoke(args=["audit", "public-key", "-o", str(old_public)]).exit_code == 0
    os.rename(app.config["AUDIT_SIGNING_KEY_FILE"], tmp_path / "retired-key.pem")
    assert runner.invoke(args=["audit", "keygen"]).exit_code == 0
    record_events(2)
    checkpoint(runner)

    without_old = verify(runner)
    assert without_old.exit_code == 1
    assert "checkpoint 1 signed with unknown key" in without_old.stderr

    with_old = verify(runner, "--public-key", str(old_public))
    assert with_old.exit_code == 0, with_old.output
    assert "2 checkpoints verified" in with_old.stdout


def test_checkpoint_model_and_migrations_agree(app):
    # Tests build the schema from the migrations: a column or constraint only in the model would pass unnoticed.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    ours = [d for d in diff if "audit_checkpoint" in repr(d) or "audit_event" in repr(d)]
    assert ours == []
