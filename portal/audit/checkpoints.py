"""Signed checkpoints of the audit chain: "the chain up to seq n ends in hash h", signed with Ed25519.

The private key lives in a file outside the database (config AUDIT_SIGNING_KEY_FILE), so somebody who can
rewrite the whole audit_event table and recompute every hash still cannot forge a checkpoint. Auditors get the
public key (`flask audit public-key`) and can verify checkpoints without ever holding the private key.

The signed statement is plain text, one field a line (joined by "\n", no final newline), so it can be
checked with any Ed25519 tool:

    stadtportal-audit-checkpoint v2
    seq=<n>
    hash=<hex>
    signed_at=<YYYY-MM-DDTHH:MM:SS.ffffffZ>
    first_seq=<m>
    tree_size=<n - m + 1>
    merkle_root=<hex>

Each checkpoint covers the events after the previous checkpoint up to its own seq: first_seq is the previous
checkpoint's seq + 1 (1 for the first). merkle_root is the RFC 9162 Merkle tree over those events, each leaf the
raw bytes of an event's chain hash (portal.audit.merkle), so one event can be proven covered by a short audit
path (portal.audit.proofs, tools/verify_audit_proof.py). Checkpoints made before revision 0011 signed the
v1 statement (the first four lines, header "... v1"); they still verify, but give no inclusion proofs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.actors import SYSTEM
from portal.audit import sequencer
from portal.audit import services as audit
from portal.audit.chain import GENESIS_HASH, format_time
from portal.audit.merkle import RootBuilder, event_leaf_hash
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

log = logging.getLogger(__name__)

STATEMENT_HEADER_V1 = "stadtportal-audit-checkpoint v1"
STATEMENT_HEADER = "stadtportal-audit-checkpoint v2"
STREAM_BATCH = 10_000  # rows fetched at a time while hashing a checkpoint's range


class CheckpointKeyError(RuntimeError):
    """The signing or verification key is missing or unusable."""


class CheckpointRangeError(RuntimeError):
    """The events a new checkpoint would cover are not all there; nothing is signed then."""


@dataclass(frozen=True)
class CheckpointFields:
    """The stored columns of a checkpoint, as the verifier reads them (no ORM object needed)."""

    id: int
    seq: int
    hash: str
    signed_at: datetime
    key_id: str
    signature: str
    first_seq: int | None = None
    tree_size: int | None = None
    merkle_root: str | None = None

    @property
    def version(self) -> int:
        return 1 if self.merkle_root is None else 2


def statement(
    seq: int,
    chain_hash: str,
    signed_at: datetime,
    *,
    first_seq: int | None = None,
    tree_size: int | None = None,
    merkle_root: str | None = None,
) -> bytes:
    """The exact bytes that are signed: v2 when a Merkle root is given, else the v1 statement of old rows."""
    if merkle_root is None:
        return f"{STATEMENT_HEADER_V1}\nseq={seq}\nhash={chain_hash}\nsigned_at={format_time(signed_at)}".encode()
    return (
        f"{STATEMENT_HEADER}\nseq={seq}\nhash={chain_hash}\nsigned_at={format_time(signed_at)}"
        f"\nfirst_seq={first_seq}\ntree_size={tree_size}\nmerkle_root={merkle_root}"
    ).encode()


def statement_of(checkpoint: CheckpointFields | AuditCheckpoint) -> bytes:
    return statement(
        checkpoint.seq,
        checkpoint.hash,
        checkpoint.signed_at,
        first_seq=checkpoint.first_seq,
        tree_size=checkpoint.tree_size,
        merkle_root=checkpoint.merkle_root,
    )


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def generate_key_file(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Write a new private key readable by its owner only. Never overwrites: an old key signed old checkpoints."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # O_EXCL: two operators racing to create the key must not end up with different keys.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask could have narrowed the mode, never widen it beyond 0600
        os.write(fd, pem)
    finally:
        os.close(fd)
    return key


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CheckpointKeyError(f"no audit signing key at {path}; create one with `flask audit keygen`") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointKeyError(f"{path} does not hold an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_or_create_private_key(path: str | os.PathLike[str]) -> tuple[Ed25519PrivateKey, bool]:
    """The signing key, created (mode 0600) if the file does not exist yet. Returns (key, created)."""
    if not Path(path).exists():
        try:
            return generate_key_file(path), True
        except FileExistsError:
            pass  # created by a concurrent run in the meantime: use that one
    return load_private_key(path), False


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """A public key from a PEM file; a private key file is accepted too (its public half is used)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CheckpointKeyError(f"no key file at {path}") from None
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise CheckpointKeyError(f"{path} does not hold a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def public_keys_in(text: str) -> list[Ed25519PublicKey]:
    """The Ed25519 public keys of every PEM block in `text` (a file may list the current and retired keys)."""
    keys: list[Ed25519PublicKey] = []
    marker = "-----END PUBLIC KEY-----"
    for block in text.split(marker)[:-1]:
        start = block.find("-----BEGIN PUBLIC KEY-----")
        if start < 0:
            continue
        try:
            key = serialization.load_pem_public_key((block[start:] + marker + "\n").encode())
        except ValueError:
            continue
        if isinstance(key, Ed25519PublicKey):
            keys.append(key)
    return keys


def keyring(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id, so checkpoints signed before a key rotation still verify."""
    return {key_id_of(key): key for key in public_keys}


def signature_valid(checkpoint: CheckpointFields | AuditCheckpoint, public_key: Ed25519PublicKey) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public_key.verify(signature, statement_of(checkpoint))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def range_leaves(first_seq: int, last_seq: int) -> Iterator[bytes]:
    """The Merkle leaf hashes of the events first_seq..last_seq in seq order, fetched in keyset batches, so a
    day's range is streamed, never held in memory. Missing events are simply not there: callers count."""
    after = sa.bindparam("after", type_=sa.BigInteger)
    query = (
        sa.select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq > after, AuditEvent.seq <= last_seq)
        .order_by(AuditEvent.seq)
        .limit(STREAM_BATCH)
    )
    position = first_seq - 1
    while True:
        rows = db.session.execute(query, {"after": position}).all()
        for _seq, event_hash in rows:
            yield event_leaf_hash(event_hash)
        if len(rows) < STREAM_BATCH:
            return
        position = rows[-1][0]


def range_root(first_seq: int, last_seq: int) -> tuple[str, int]:
    """The Merkle root (hex) over the events first_seq..last_seq, and how many of them exist."""
    builder = RootBuilder()
    for leaf in range_leaves(first_seq, last_seq):
        builder.add(leaf)
    return builder.root().hex(), builder.size


def make_checkpoint(private_key: Ed25519PrivateKey, witnessed: CheckpointFields | None = None) -> AuditCheckpoint:
    """Sign the current end of the chain and record an audit.checkpoint event, in the caller's transaction.

    The checkpoint covers the chain up to the last event before its own audit.checkpoint event; that event
    gets the next seq and is covered by the next checkpoint. Its Merkle tree spans the events since the
    previous checkpoint (in the database or, if the database lost it, the last `witnessed` one). Refuses
    (CheckpointRangeError) if events of that range are missing, or if the chain no longer ends in the hash the
    last witnessed checkpoint signed at its seq: a rewritten history is never signed again.
    """
    # Under the chain lock until commit, with every event queued so far chained first: nothing can slip in between
    # the checkpoint and its own event.
    sequencer.chain_in_session()
    last = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, chain_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    previous_seq = db.session.scalar(sa.select(sa.func.max(AuditCheckpoint.seq))) or 0
    if witnessed is not None:
        stored = (
            GENESIS_HASH
            if witnessed.seq == 0
            else db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == witnessed.seq))
        )
        if stored != witnessed.hash:
            raise CheckpointRangeError(
                f"the chain at seq {witnessed.seq} no longer ends in the hash of the witnessed checkpoint; "
                "nothing is signed: run flask audit verify"
            )
        previous_seq = max(previous_seq, witnessed.seq)
    first_seq = previous_seq + 1
    tree_size = seq - previous_seq
    if tree_size < 0:
        raise CheckpointRangeError(
            f"the chain ends at seq {seq}, before the previous checkpoint's seq {previous_seq}; run flask audit verify"
        )
    merkle_root, found = range_root(first_seq, seq)
    if found != tree_size:
        raise CheckpointRangeError(
            f"only {found} of the {tree_size} events {first_seq} to {seq} exist; run flask audit verify"
        )
    signed_at = utcnow()
    key_id = key_id_of(private_key.public_key())
    signed = statement(seq, chain_hash, signed_at, first_seq=first_seq, tree_size=tree_size, merkle_root=merkle_root)
    checkpoint = AuditCheckpoint(
        seq=seq,
        hash=chain_hash,
        signed_at=signed_at,
        key_id=key_id,
        signature=base64.b64encode(private_key.sign(signed)).decode(),
        first_seq=first_seq,
        tree_size=tree_size,
        merkle_root=merkle_root,
    )
    db.session.add(checkpoint)
    db.session.flush()
    audit.record_now(
        "audit.checkpoint",
        SYSTEM,
        target=checkpoint,
        seq=seq,
        hash=chain_hash,
        key_id=key_id,
        first_seq=first_seq,
        tree_size=tree_size,
        merkle_root=merkle_root,
    )
    return checkpoint


@dataclass(frozen=True)
class CheckpointRun:
    """What create_checkpoint did: the new checkpoint (None if nothing had happened since the last one),
    whether it created the key, and the witness targets it could not write (the checkpoint stands anyway)."""

    checkpoint: AuditCheckpoint | None
    key_created: bool
    witness_problems: list[str]


def nothing_new_since(witnessed: CheckpointFields | None) -> bool:
    """True when the only event after the last checkpoint is that checkpoint's own audit.checkpoint event."""
    previous_seq = db.session.scalar(sa.select(sa.func.max(AuditCheckpoint.seq)))
    if previous_seq is None:
        return False
    if witnessed is not None:
        previous_seq = max(previous_seq, witnessed.seq)
    after = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.seq > previous_seq).limit(2)).all()
    return after == ["audit.checkpoint"]


def create_checkpoint(key_file: str | os.PathLike[str], *, only_if_new: bool = False) -> CheckpointRun:
    """One use case: load (or create) the key, sign, store, audit, commit; then copy the checkpoint to every
    witness (portal.audit.witness). With `only_if_new`, nothing is signed when no event happened since the last
    checkpoint but its own (the frequent job would otherwise add an event every few minutes for ever)."""
    from flask import current_app

    from portal.audit import witness

    private_key, created = load_or_create_private_key(key_file)
    witnesses = witness.configured_witnesses(current_app.config)
    last = witness.last_witnessed(witnesses)
    witnessed = last.checkpoint if last else None
    sequencer.catch_up()
    checkpoint = None
    if not (only_if_new and nothing_new_since(witnessed)):
        with transaction():
            checkpoint = make_checkpoint(private_key, witnessed)
    db.session.commit()
    with db.engine.connect() as connection:
        stored = all_checkpoints(connection)
    new = next((cp for cp in stored if checkpoint is not None and cp.id == checkpoint.id), None)
    problems = witness.publish(witnesses, private_key.public_key(), stored, new)
    for problem in problems:
        log.error("audit checkpoint not witnessed: %s", problem)
    return CheckpointRun(checkpoint, created, problems)


def latest_checkpoint() -> AuditCheckpoint | None:
    return db.session.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


def all_checkpoints(connection: sa.Connection) -> list[CheckpointFields]:
    """Every checkpoint in seq order (at most one every few minutes: about 100,000 a year)."""
    rows = connection.execute(
        sa.select(
            AuditCheckpoint.id,
            AuditCheckpoint.seq,
            AuditCheckpoint.hash,
            AuditCheckpoint.signed_at,
            AuditCheckpoint.key_id,
            AuditCheckpoint.signature,
            AuditCheckpoint.first_seq,
            AuditCheckpoint.tree_size,
            AuditCheckpoint.merkle_root,
        ).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
    )
    return [CheckpointFields(*row) for row in rows]
