"""Signed checkpoints of the audit chain: "the chain up to seq n ends in hash h", signed with Ed25519.

The private key lives in a file outside the database (config AUDIT_SIGNING_KEY_FILE), so somebody who can
rewrite the whole audit_event table and recompute every hash still cannot forge a checkpoint. Auditors get the
public key (`flask audit public-key`) and can verify checkpoints without ever holding the private key.

The signed statement is plain text, one field a line, so it can be checked with any Ed25519 tool:

    stadtportal-audit-checkpoint v1
    seq=<n>
    hash=<hex>
    signed_at=<YYYY-MM-DDTHH:MM:SS.ffffffZ>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.audit.chain import GENESIS_HASH, format_time
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

STATEMENT_HEADER = "stadtportal-audit-checkpoint v1"


class CheckpointKeyError(RuntimeError):
    """The signing or verification key is missing or unusable."""


@dataclass(frozen=True)
class CheckpointFields:
    """The stored columns of a checkpoint, as the verifier reads them (no ORM object needed)."""

    id: int
    seq: int
    hash: str
    signed_at: datetime
    key_id: str
    signature: str


def statement(seq: int, chain_hash: str, signed_at: datetime) -> bytes:
    """The exact bytes that are signed."""
    return f"{STATEMENT_HEADER}\nseq={seq}\nhash={chain_hash}\nsigned_at={format_time(signed_at)}".encode()


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


def keyring(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id, so checkpoints signed before a key rotation still verify."""
    return {key_id_of(key): key for key in public_keys}


def signature_valid(checkpoint: CheckpointFields, public_key: Ed25519PublicKey) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public_key.verify(signature, statement(checkpoint.seq, checkpoint.hash, checkpoint.signed_at))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _lock_chain() -> None:
    # The same transaction-scoped lock audit.record takes (re-entrant within one session), held from reading
    # the chain's end until commit, so no event can slip in between the checkpoint and its own event.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit.CHAIN_LOCK_KEY})


def make_checkpoint(private_key: Ed25519PrivateKey) -> AuditCheckpoint:
    """Sign the current end of the chain and record an audit.checkpoint event, in the caller's transaction.

    The checkpoint covers the chain up to the last event before its own audit.checkpoint event; that event
    gets the next seq and is covered by the next checkpoint.
    """
    _lock_chain()
    last = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, chain_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    signed_at = utcnow()
    key_id = key_id_of(private_key.public_key())
    signature = base64.b64encode(private_key.sign(statement(seq, chain_hash, signed_at))).decode()
    checkpoint = AuditCheckpoint(seq=seq, hash=chain_hash, signed_at=signed_at, key_id=key_id, signature=signature)
    db.session.add(checkpoint)
    db.session.flush()
    audit.record("audit.checkpoint", SYSTEM, target=checkpoint, seq=seq, hash=chain_hash, key_id=key_id)
    return checkpoint


def create_checkpoint(key_file: str | os.PathLike[str]) -> tuple[AuditCheckpoint, bool]:
    """One use case: load (or create) the key, sign, store, audit, commit. Returns (checkpoint, key_created)."""
    private_key, created = load_or_create_private_key(key_file)
    with transaction():
        checkpoint = make_checkpoint(private_key)
    return checkpoint, created


def latest_checkpoint() -> AuditCheckpoint | None:
    return db.session.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


def all_checkpoints(connection: sa.Connection) -> list[CheckpointFields]:
    """Every checkpoint in seq order (there are few: one a day or so)."""
    rows = connection.execute(
        sa.select(
            AuditCheckpoint.id,
            AuditCheckpoint.seq,
            AuditCheckpoint.hash,
            AuditCheckpoint.signed_at,
            AuditCheckpoint.key_id,
            AuditCheckpoint.signature,
        ).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
    )
    return [CheckpointFields(*row) for row in rows]
