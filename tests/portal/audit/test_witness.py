"""The witness: each signed checkpoint is copied outside the database, and verify compares the chain with it.

The attack of issue 11, as the database superuser: rewrite an event's details, recompute every later hash,
delete the checkpoints. Before the witness, `flask audit verify` called that chain intact. Both backends; on
PostgreSQL the tampering needs the superuser (session_replication_role), which CI must provide.
"""

from __future__ import annotations

import base64
import os
import socket
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from portal.audit import checkpoints, witness
from portal.audit.jobs import sign_checkpoint
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.extensions import db
from tests.portal.audit.helpers import checkpoint, record_events, rehash_from, tamper, verify


@pytest.fixture
def superuser(app):
    """The tampering below is what only the database superuser can do; CI must run it, elsewhere it may skip."""
    if db.engine.dialect.name == "postgresql":
        is_superuser = db.session.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        db.session.rollback()
        if not is_superuser:
            if os.environ.get("CI"):
                pytest.fail("CI must run the audit rewrite attack as the PostgreSQL superuser")
            pytest.skip("the audit rewrite attack needs the PostgreSQL superuser")


def witness_dir(app) -> Path:
    return Path(app.config["AUDIT_SIGNING_KEY_FILE"]).parent / "audit-witness"


def two_checkpoints(runner) -> None:
    """Events 1-5, checkpoint of seq 5 (its event is 6); events 7-10, checkpoint of seq 10 (its event is 11)."""
    record_events(5)
    checkpoint(runner)
    record_events(4)
    checkpoint(runner)


def test_each_checkpoint_is_copied_to_a_read_only_witness_file_an_auditor_can_check(app, runner):
    record_events(3)
    checkpoint(runner)

    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    files = sorted(witness_dir(app).iterdir())
    assert [f.name for f in files] == ["checkpoint-00000000000000000003.txt"]  # no temporary file left behind
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o444
    lines = files[0].read_text().splitlines()
    assert lines[1:3] == ["seq=3", f"hash={row.hash}"]
    assert lines[-2:] == [f"key_id={row.key_id}", f"signature={row.signature}"]
    # The first seven lines are the signed statement: checked with the public key alone.
    pem = runner.invoke(args=["audit", "public-key"]).stdout
    public_key = serialization.load_pem_public_key(pem.encode())
    public_key.verify(base64.b64decode(row.signature), "\n".join(lines[:7]).encode())  # raises if invalid


def test_a_witness_file_is_never_replaced_by_another_checkpoint(app, runner):
    record_events(3)
    checkpoint(runner)
    target = DirectoryWitness_of(app)
    [entry] = target.entries()
    original = target.file_for(3).read_text()
    other = witness.parse_entry(original.replace(f"hash={entry.checkpoint.hash}", "hash=" + "a" * 64), "forged")

    with pytest.raises(witness.WitnessError, match="never replaced"):
        target.write(other.checkpoint)
    target.write(entry.checkpoint)  # the same checkpoint again: fine, nothing changes

    assert target.file_for(3).read_text() == original
    assert [p.name for p in witness_dir(app).iterdir()] == ["checkpoint-00000000000000000003.txt"]


def DirectoryWitness_of(app) -> witness.DirectoryWitness:
    return witness.DirectoryWitness(witness_dir(app))


def test_rewritten_history_with_its_checkpoints_deleted_fails_verify_naming_the_range(app, runner, superuser):
    two_checkpoints(runner)
    # The attack: rewrite one event's details, recompute every later hash, delete every checkpoint.
    tamper("""UPDATE audit_event SET details = '{"method":"oidc"}' WHERE seq = 8""")
    rehash_from(8)
    tamper("DELETE FROM audit_checkpoint")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint)) == 0

    result = verify(runner, "--max-problems", "5")

    assert result.exit_code == 1, result.output
    problems = result.stderr.splitlines()
    # Event 6 is the first checkpoint's own event: the second checkpoint's range starts there.
    assert problems[0].startswith("events 6 to 10 no longer match the witnessed checkpoint of seq 10")
    assert "(first bad seq 6, or later in that range;" in problems[0]
    assert "checkpoint of seq 5 is missing from the database (it is in the witness)" in problems
    assert "NOT intact" in result.stderr


def test_rewritten_history_is_not_signed_again_by_the_next_checkpoint(app, runner, superuser):
    two_checkpoints(runner)
    tamper("""UPDATE audit_event SET details = '{"method":"oidc"}' WHERE seq = 8""")
    rehash_from(8)
    tamper("DELETE FROM audit_checkpoint")

    result = runner.invoke(args=["audit", "checkpoint"])

    assert result.exit_code != 0
    assert "no longer ends in the hash of the witnessed checkpoint" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint)) == 0
    assert verify(runner).exit_code == 1


def test_checkpoints_deleted_from_the_database_are_found_through_the_witness(app, runner, superuser):
    two_checkpoints(runner)
    tamper("DELETE FROM audit_checkpoint WHERE seq = 10")

    result = verify(runner)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "checkpoint of seq 10 is missing from the database (it is in the witness)"


def test_tail_deleted_behind_a_witnessed_checkpoint_is_found(app, runner, superuser):
    two_checkpoints(runner)
    tamper("DELETE FROM audit_checkpoint")
    tamper("DELETE FROM audit_event WHERE seq >= 4")

    result = verify(runner)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "witnessed checkpoint of seq 5 covers seq 5 but the chain ends at seq 3"


def test_missing_witness_file_is_found(app, runner):
    two_checkpoints(runner)
    record_events(2)  # 12, 13
    checkpoint(runner)  # seq 13, events 12 to 13
    DirectoryWitness_of(app).file_for(10).unlink()

    result = verify(runner, "--max-problems", "3")

    assert result.exit_code == 1
    problems = result.stderr.splitlines()
    assert problems[0] == "the witness has no checkpoint for the events 6 to 10: a witnessed copy is missing"
    assert "checkpoint 2 (seq 10) is missing from the witness" in problems


def test_verify_compares_with_a_copy_of_the_witness_given_on_the_command_line(app, runner, tmp_path):
    two_checkpoints(runner)
    copy = tmp_path / "witness-copy"
    copy.mkdir()
    only_first = DirectoryWitness_of(app).file_for(5)
    (copy / only_first.name).write_text(only_first.read_text())
    (copy / "checkpoint-00000000000000000010.txt").write_text(only_first.read_text())  # a wrong copy

    result = verify(runner, "--witness-dir", str(copy))

    assert result.exit_code == 1
    assert "holds the checkpoint of seq 5" in result.stderr


def test_verify_seals_an_intact_chain_with_a_witnessed_checkpoint_once(app, runner):
    assert runner.invoke(args=["audit", "keygen"]).exit_code == 0
    record_events(3)

    first = verify(runner)
    assert first.exit_code == 0, first.output
    assert "Checkpoint 1 signed up to seq 3 and witnessed." in first.stdout
    assert DirectoryWitness_of(app).last_seq() == 3

    again = verify(runner)  # nothing happened since but the checkpoint's own event
    assert again.exit_code == 0, again.output
    assert "signed up to" not in again.stdout
    assert "1 checkpoints verified" in again.stdout
    assert "1 witnessed copies compared" in again.stdout


def test_verify_without_the_key_checks_but_signs_nothing(app, runner):
    record_events(3)

    result = verify(runner)

    assert result.exit_code == 0, result.output
    assert not Path(app.config["AUDIT_SIGNING_KEY_FILE"]).exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint)) == 0


def test_checkpoint_job_runs_every_five_minutes_and_skips_when_nothing_happened(app):
    from portal.jobs import declared_jobs

    assert runner_keygen(app)
    from portal.audit.jobs import declare_jobs

    declare_jobs(app)  # the key exists now: declared as on a worker that starts with it
    assert declared_jobs(app)["audit.checkpoint"].every.total_seconds() == 300

    record_events(2)
    assert sign_checkpoint() == "checkpoint 1 up to seq 2"
    assert sign_checkpoint() == "nothing new since the last checkpoint"
    record_events(1)
    assert sign_checkpoint() == "checkpoint 2 up to seq 4"
    assert DirectoryWitness_of(app).last_seq() == 4


def runner_keygen(app) -> bool:
    return app.test_cli_runner().invoke(args=["audit", "keygen"]).exit_code == 0


def test_checkpoints_made_before_the_witness_are_copied_by_the_next_one(app, runner):
    app.config["AUDIT_WITNESS_DIR"] = "off"
    record_events(2)
    checkpoint(runner)  # seq 2: no witness yet
    assert not witness_dir(app).exists()
    app.config["AUDIT_WITNESS_DIR"] = ""

    warned = verify(runner, "--no-checkpoint")
    assert warned.exit_code == 0, warned.output
    assert "checkpoint 1 (seq 2) is not witnessed yet" in warned.stderr

    record_events(1)
    checkpoint(runner)  # seq 4
    assert [e.seq for e in DirectoryWitness_of(app).entries()] == [2, 4]
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "2 checkpoints verified" in result.stdout


def test_a_witness_that_cannot_be_written_fails_the_command_but_keeps_the_checkpoint(app, runner, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    app.config["AUDIT_WITNESS_DIR"] = str(blocked / "witness")
    record_events(2)

    result = runner.invoke(args=["audit", "checkpoint"])

    assert result.exit_code == 1
    assert "not witnessed: directory" in result.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint)) == 1


def test_syslog_witness_gets_one_line_per_checkpoint(app, runner):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        app.config["AUDIT_WITNESS_SYSLOG"] = f"udp://127.0.0.1:{server.getsockname()[1]}"
        record_events(3)
        checkpoint(runner)
        message = server.recv(65536).decode()

    row = db.session.scalars(sa.select(AuditCheckpoint)).one()
    assert message.startswith("<85>1 ")  # authpriv.notice, RFC 5424
    assert " stadtportal - audit-checkpoint - stadtportal-audit-checkpoint v2 seq=3 " in message
    assert f"hash={row.hash}" in message
    assert message.endswith(f"key_id={row.key_id} signature={row.signature}")


def test_further_witness_targets_are_configured_by_import_path(app, runner):
    app.config["AUDIT_WITNESS_EXTRA"] = ["tests.portal.audit.test_witness:memory_witness"]
    record_events(2)
    checkpoint(runner)

    assert [cp.seq for cp in MEMORY] == [2]


MEMORY: list[checkpoints.CheckpointFields] = []


class _MemoryWitness:
    name = "memory"

    def write(self, checkpoint: checkpoints.CheckpointFields) -> None:
        MEMORY.append(checkpoint)

    def entries(self) -> None:
        return None


def memory_witness(config) -> _MemoryWitness:
    MEMORY.clear()
    return _MemoryWitness()


def test_the_hot_path_writes_no_witness(app):
    record_events(20)

    assert not witness_dir(app).exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 20
