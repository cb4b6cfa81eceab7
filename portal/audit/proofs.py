"""Evidence for one event about a citizen: its place in the chain, the signed checkpoint covering it, and an
RFC 9162 inclusion proof that ties the event to that checkpoint's signed Merkle root.

Read-only use cases for /konto/protokoll/<seq>: a citizen only ever gets events about themselves (anything
else is a 404, so seq numbers of other people's events cannot be probed). The proof download carries
everything tools/verify_audit_proof.py needs to check it offline, with no trust in the portal: the event's
hashed fields (so the hash is recomputed, not taken on faith), the audit path, the checkpoint statement and
signature. docs/audit-proofs.md describes the procedure.

Cost: a proof is computed on demand, per request, by streaming the hashes of the checkpoint's range once in
seq order (one indexed range scan of the primary key in batches, about two SHA-256 per event, O(log n)
memory): a day of 100,000 events is well under a second. Nothing is cached; checkpoints are immutable, so
a cache could be added without changing the result. The list page never computes proofs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden, NotFound

from portal.actors import Actor
from portal.audit import checkpoints, merkle, queries, sequencer
from portal.audit.chain import canonical_json, fields_of, format_time
from portal.audit.models import AuditCheckpoint, AuditEvent
from portal.extensions import db

PROOF_FORMAT = "stadtportal-audit-proof/1"

# What the detail page can say about an event's seal.
SEALED = "sealed"  # a v2 checkpoint covers it and the proof leads to its signed root
PENDING = "pending"  # no checkpoint yet: sealed by the next one (every few minutes)
V1_ONLY = "v1_only"  # covered by a checkpoint made before Merkle roots: chain position, no inclusion proof
BROKEN = "broken"  # the stored events no longer lead to the signed root: the trail needs checking


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root: str  # the root the path leads to; equals the checkpoint's merkle_root when the proof holds


@dataclass(frozen=True)
class Evidence:
    event: AuditEvent
    line: queries.CitizenEvent
    details: dict[str, Any]
    payload: str  # the canonical text that was hashed (with prev_hash) into event.hash
    checkpoint: AuditCheckpoint | None
    proof: InclusionProof | None
    status: str
    public_key_pem: str | None  # the configured public key with the checkpoint's key id, if any
    signature_valid: bool | None  # checked with that key; None without a key

    @property
    def statement(self) -> str | None:
        return checkpoints.statement_of(self.checkpoint).decode() if self.checkpoint is not None else None


def covering_checkpoint(seq: int) -> AuditCheckpoint | None:
    """The first checkpoint whose range reaches `seq` (indexed by seq)."""
    return db.session.scalar(
        sa.select(AuditCheckpoint)
        .where(AuditCheckpoint.seq >= seq)
        .order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
        .limit(1)
    )


def build_proof(event: AuditEvent, checkpoint: AuditCheckpoint) -> InclusionProof | None:
    """The inclusion proof of `event` in a v2 checkpoint's tree, from the stored events; None if the range is
    incomplete (events missing)."""
    first, size = checkpoint.first_seq, checkpoint.tree_size
    if first is None or size is None or not first <= event.seq <= checkpoint.seq:
        return None
    index = event.seq - first
    try:
        path, own, _root = merkle.inclusion_proof(index, size, checkpoints.range_leaves(first, checkpoint.seq))
    except (ValueError, IndexError):
        return None
    root = merkle.root_from_inclusion_proof(index, size, own, path)
    return InclusionProof(
        leaf_index=index,
        tree_size=size,
        leaf_hash=own.hex(),
        audit_path=[node.hex() for node in path],
        root=root.hex(),
    )


def configured_public_key(key_id: str) -> str | None:
    """The PEM of the public key with this key id from AUDIT_PUBLIC_KEY_FILE, or None."""
    path = current_app.config.get("AUDIT_PUBLIC_KEY_FILE") or ""
    if not path:
        return None
    try:
        text = Path(path).read_text()
    except OSError:
        current_app.logger.warning("AUDIT_PUBLIC_KEY_FILE %s cannot be read", path)
        return None
    for key in checkpoints.public_keys_in(text):
        if checkpoints.key_id_of(key) == key_id:
            return checkpoints.public_key_pem(key)
    return None


def _own_event(actor: Actor, seq: int) -> AuditEvent:
    if actor.user is None:
        raise Forbidden()
    sequencer.catch_up()
    event = db.session.get(AuditEvent, seq)
    if event is None or event.subject_user_id != actor.user.id:
        raise NotFound()
    return event


def evidence_for(actor: Actor, seq: int) -> Evidence:
    """Everything the detail page shows about event `seq`, if it concerns the signed-in person (else 404)."""
    event = _own_event(actor, seq)
    details = queries.details_of(event)
    line = queries.citizen_lines([event], actor.user.id)[0]  # type: ignore[union-attr]  # checked above
    checkpoint = covering_checkpoint(seq)
    proof: InclusionProof | None = None
    public_pem: str | None = None
    signature_ok: bool | None = None
    if checkpoint is None:
        status = PENDING
    elif checkpoint.version == 1:
        status = V1_ONLY
    else:
        proof = build_proof(event, checkpoint)
        status = SEALED if proof is not None and proof.root == checkpoint.merkle_root else BROKEN
    if checkpoint is not None:
        public_pem = configured_public_key(checkpoint.key_id)
        if public_pem is not None:
            key = checkpoints.public_keys_in(public_pem)[0]
            signature_ok = checkpoints.signature_valid(checkpoint, key)
    return Evidence(
        event=event,
        line=line,
        details=details,
        payload=canonical_json(fields_of(event)),
        checkpoint=checkpoint,
        proof=proof,
        status=status,
        public_key_pem=public_pem,
        signature_valid=signature_ok,
    )


def proof_document(evidence: Evidence) -> dict[str, Any]:
    """The downloadable proof (nachweis.json): what tools/verify_audit_proof.py checks. 404 without a proof."""
    checkpoint, proof = evidence.checkpoint, evidence.proof
    if checkpoint is None or proof is None or evidence.status != SEALED:
        raise NotFound()
    event = evidence.event
    return {
        "format": PROOF_FORMAT,
        "about": _(
            "Nachweis, dass dieser Eintrag des Audit-Protokolls des Stadtportals in einem signierten Prüfpunkt "
            "enthalten ist. Prüfen mit: python tools/verify_audit_proof.py nachweis.json oeffentlicher-schluessel.pem "
            "(Verfahren: docs/audit-proofs.md)."
        ),
        "event": fields_of(event),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "hash_rule": 'hash = SHA-256(prev_hash + "\\n" + canonical JSON of event), hex',
        "checkpoint": {
            "id": checkpoint.id,
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "signed_at": format_time(checkpoint.signed_at),
            "first_seq": checkpoint.first_seq,
            "tree_size": checkpoint.tree_size,
            "merkle_root": checkpoint.merkle_root,
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
            "statement": evidence.statement,
        },
        "inclusion_proof": {
            "algorithm": "RFC 9162 section 2.1 (SHA-256); leaf = the 32 bytes of the event hash",
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": proof.leaf_hash,
            "audit_path": proof.audit_path,
        },
        "public_key": {
            "key_id": checkpoint.key_id,
            "pem": evidence.public_key_pem,
            "note": _(
                "Nur zur Bequemlichkeit beigefügt. Beziehen Sie den öffentlichen Schlüssel unabhängig von der "
                "Stadt (z. B. Website oder Datenschutzbeauftragte) und vergleichen Sie die Schlüssel-ID."
            ),
        },
    }
