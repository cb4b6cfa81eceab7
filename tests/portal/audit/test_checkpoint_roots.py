"""`flask audit verify` recomputes every checkpoint's Merkle root and range, so a checkpoint signed with the real key
over wrong tree fields (a buggy or subverted signer) is caught, and `flask audit checkpoint` refuses a range with
missing events."""

from __future__ import annotations

import base64
import dataclasses

import pytest
import sqlalchemy as sa

from portal.audit import checkpoints
from portal.audit.models import AuditCheckpoint
from portal.extensions import db
from tests.portal.audit.helpers import record_events, seal, tamper


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "AUDIT_PUBLIC_KEY_FILE": str(tmp_path / "audit-public-keys.pem")}


def _resign(app, checkpoint_id: int, **changes) -> None:
    """Store and sign a checkpoint with wrong tree fields using the real key: what a buggy or subverted signer
    would leave behind. The signature is valid; only recomputing the tree can tell."""
    with db.engine.connect() as connection:
        [row] = [cp for cp in checkpoints.all_checkpoints(connection) if cp.id == checkpoint_id]
    row = dataclasses.replace(row, **changes)
    key = checkpoints.load_private_key(app.config["AUDIT_SIGNING_KEY_FILE"])
    signature = base64.b64encode(key.sign(checkpoints.statement_of(row))).decode()
    # Past the append-only triggers: only the database superuser could store it.
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    tamper(
        f"UPDATE audit_checkpoint SET {assignments}, signature = :signature WHERE id = :id",
        **changes,
        signature=signature,
        id=checkpoint_id,
    )


def test_verify_fails_naming_the_checkpoint_whose_merkle_root_is_wrong(app, runner):
    record_events(5)
    row = seal(app, runner)
    _resign(app, row.id, merkle_root="cd" * 32)

    result = runner.invoke(args=["audit", "verify", "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"checkpoint {row.id} Merkle root does not match the events 1 to 5"


def test_verify_fails_when_a_stored_root_was_changed_without_the_key(app, runner):
    record_events(5)
    row = seal(app, runner)
    tamper("UPDATE audit_checkpoint SET merkle_root = :r", r="cd" * 32)

    result = runner.invoke(args=["audit", "verify", "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"checkpoint {row.id} signature invalid"


def test_verify_fails_when_a_checkpoint_range_does_not_follow_the_previous_one(app, runner):
    record_events(3)
    seal(app, runner)
    record_events(3)
    second = seal(app, runner)  # 4..7
    _resign(app, second.id, first_seq=6, tree_size=2)  # leaves events 4 and 5 out of every tree

    result = runner.invoke(args=["audit", "verify", "--quiet"])
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == f"checkpoint {second.id} range 6 to 7 (size 2) does not follow the previous checkpoint"
    )


def test_verify_recomputes_the_roots_across_batches_and_many_checkpoints(app, runner):
    for count in (1, 6, 2, 9):
        record_events(count)
        seal(app, runner)

    result = runner.invoke(args=["audit", "verify", "--quiet", "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert "4 checkpoints verified" in result.stdout


def test_checkpoint_refuses_to_sign_a_range_with_missing_events(app, runner):
    record_events(4)
    tamper("DELETE FROM audit_event WHERE seq = 2")

    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code != 0
    assert "only 3 of the 4 events 1 to 4 exist" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint)) == 0
