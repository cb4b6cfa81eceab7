#!/usr/bin/env python3
"""Check a Stadtportal audit proof (nachweis.json) offline, without the portal.

    python tools/verify_audit_proof.py nachweis.json public-key.pem

Needs Python 3.9+ and the `cryptography` package, nothing else (pip install cryptography). Get the public key
from the city on a channel of your own (its website, the data protection officer) and compare its key id; the
key inside the proof file is only a convenience: whoever could forge the proof could swap that key as well.
Without a key file the embedded one is used, with a warning.

The checks, in order (docs/audit-proofs.md explains each by hand):
  1. event hash:  SHA-256(prev_hash + "\\n" + canonical JSON of the event's fields) is the event's hash;
  2. range:       the event lies in the checkpoint's range first_seq..seq, at leaf index seq - first_seq;
  3. leaf hash:   SHA-256(0x00 || the 32 bytes of the event hash);
  4. audit path:  RFC 9162 §2.1.3.2 from the leaf over the path gives the checkpoint's signed merkle_root;
  5. key:         the public key's id (first 16 hex digits of SHA-256 over its 32 raw bytes) is the key_id;
  6. signature:   the Ed25519 signature is valid over the checkpoint statement rebuilt from its fields.

Prints OK and exits 0, or names the step that failed and exits 1 (2 for an unreadable file).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import sys
from typing import Any

FORMAT = "stadtportal-audit-proof/1"
STATEMENT_HEADER = "stadtportal-audit-checkpoint v2"


class ProofError(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step, self.message = step, message


# --- RFC 9162 §2.1 -----------------------------------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2, step by step; ValueError if the path does not fit the position and tree size."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ValueError("the audit path is longer than the tree is high")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the audit path is shorter than the tree is high")
    return result


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    try:
        return hmac.compare_digest(root_from_inclusion_proof(index, size, leaf, path), root)
    except ValueError:
        return False


# --- the Stadtportal formats -------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """As the portal hashes it: sorted keys, no spaces, UTF-8 characters as they are."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical_json(event)).encode()).hexdigest()


def statement(checkpoint: dict[str, Any]) -> bytes:
    return (
        f"{STATEMENT_HEADER}\nseq={checkpoint['seq']}\nhash={checkpoint['hash']}\nsigned_at={checkpoint['signed_at']}"
        f"\nfirst_seq={checkpoint['first_seq']}\ntree_size={checkpoint['tree_size']}"
        f"\nmerkle_root={checkpoint['merkle_root']}"
    ).encode()


def _hex32(value: Any, what: str, step: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ProofError(step, f"{what} is not 64 hexadecimal digits")
    return raw


def _int(value: Any, what: str, step: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(step, f"{what} is not a whole number")
    return value


def load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise ProofError("5 key", f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ProofError("5 key", f"a {type(key).__name__}, not an Ed25519 key")
    return key


def key_id_of(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verify(document: dict[str, Any], public_key_pem: bytes) -> list[str]:
    """Run the six checks; returns what was confirmed (one line each) or raises ProofError naming the step."""
    from cryptography.exceptions import InvalidSignature

    if document.get("format") != FORMAT:
        raise ProofError("0 format", f"not a {FORMAT} document")
    event, checkpoint, proof = document.get("event"), document.get("checkpoint"), document.get("inclusion_proof")
    if not isinstance(event, dict) or not isinstance(checkpoint, dict) or not isinstance(proof, dict):
        raise ProofError("0 format", "event, checkpoint or inclusion_proof is missing")
    confirmed: list[str] = []

    step = "1 event hash"
    seq = _int(event.get("seq"), "event.seq", step)
    prev, stated = document.get("prev_hash"), document.get("hash")
    _hex32(prev, "prev_hash", step)
    stated_raw = _hex32(stated, "hash", step)
    computed = event_hash(str(prev), event)
    if computed != stated:
        raise ProofError(step, f"the event's fields hash to {computed}, not to the stated {stated}")
    confirmed.append(f"event {seq}: its fields and prev_hash give its hash {stated}")

    step = "2 range"
    cp_seq = _int(checkpoint.get("seq"), "checkpoint.seq", step)
    first = _int(checkpoint.get("first_seq"), "checkpoint.first_seq", step)
    size = _int(checkpoint.get("tree_size"), "checkpoint.tree_size", step)
    index = _int(proof.get("leaf_index"), "inclusion_proof.leaf_index", step)
    if size != cp_seq - first + 1:
        raise ProofError(step, f"tree_size {size} does not fit the range {first} to {cp_seq}")
    if not first <= seq <= cp_seq:
        raise ProofError(step, f"event {seq} is outside the checkpoint's range {first} to {cp_seq}")
    if index != seq - first or proof.get("tree_size") != size:
        raise ProofError(step, "the proof's leaf index or tree size does not match the event and the checkpoint")
    if seq == cp_seq and checkpoint.get("hash") != stated:
        raise ProofError(step, "the checkpoint ends at this event but signs another hash")
    confirmed.append(f"event {seq} is leaf {index} of the {size} events {first} to {cp_seq}")

    step = "3 leaf hash"
    leaf = leaf_hash(stated_raw)
    if "leaf_hash" in proof and proof["leaf_hash"] != leaf.hex():
        raise ProofError(step, "the stated leaf hash is not SHA-256(0x00 || event hash)")
    confirmed.append(f"leaf hash {leaf.hex()}")

    step = "4 audit path"
    path_hex = proof.get("audit_path")
    if not isinstance(path_hex, list):
        raise ProofError(step, "audit_path is not a list")
    path = [_hex32(node, f"audit_path[{i}]", step) for i, node in enumerate(path_hex)]
    root = _hex32(checkpoint.get("merkle_root"), "checkpoint.merkle_root", step)
    try:
        reached = root_from_inclusion_proof(index, size, leaf, path)
    except ValueError as exc:
        raise ProofError(step, str(exc)) from None
    if not hmac.compare_digest(reached, root):
        raise ProofError(step, f"the path leads to {reached.hex()}, not to the signed root {root.hex()}")
    confirmed.append(f"the audit path ({len(path)} hashes) leads to the Merkle root {root.hex()}")

    step = "5 key"
    key = load_public_key(public_key_pem)
    key_id = key_id_of(key)
    if key_id != checkpoint.get("key_id"):
        raise ProofError(
            step, f"the public key has id {key_id}, the checkpoint was signed with {checkpoint.get('key_id')}"
        )
    confirmed.append(f"public key id {key_id}")

    step = "6 signature"
    signed = statement(checkpoint)
    if "statement" in checkpoint and checkpoint["statement"] != signed.decode():
        raise ProofError(step, "the statement in the file differs from the one rebuilt from the checkpoint's fields")
    try:
        key.verify(base64.b64decode(str(checkpoint.get("signature")), validate=True), signed)
    except (InvalidSignature, binascii.Error, ValueError):
        raise ProofError(step, "the Ed25519 signature over the checkpoint statement is not valid") from None
    confirmed.append(f"checkpoint {checkpoint.get('id')} signed at {checkpoint.get('signed_at')}: signature valid")
    return confirmed


def describe(event: dict[str, Any]) -> str:
    try:
        details = json.loads(event.get("details") or "{}")
    except ValueError:
        details = {}
    parts = [f"{event.get('occurred_at')} {event.get('action')} ({event.get('outcome')})"]
    if isinstance(details, dict):
        for key in ("purpose", "legal_basis", "department_id", "department"):
            if key in details:
                parts.append(f"{key}={details[key]}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Stadtportal audit proof (nachweis.json) offline.")
    parser.add_argument("proof", help="the downloaded nachweis.json")
    parser.add_argument("public_key", nargs="?", help="the city's Ed25519 public key (PEM), obtained independently")
    args = parser.parse_args(argv)
    try:
        with open(args.proof, encoding="utf-8") as handle:
            document = json.load(handle)
        if args.public_key:
            with open(args.public_key, "rb") as handle:
                pem = handle.read()
        else:
            embedded = (document.get("public_key") or {}).get("pem") if isinstance(document, dict) else None
            if not embedded:
                print("FAILED at step 5 key: no public key given and none in the file", file=sys.stderr)
                return 1
            pem = embedded.encode()
            print(
                "WARNING: checking against the key inside the proof file itself. Get the city's public key on "
                "a channel of your own and pass it as the second argument.",
                file=sys.stderr,
            )
    except (OSError, ValueError) as exc:
        print(f"cannot read the input: {exc}", file=sys.stderr)
        return 2
    if not isinstance(document, dict):
        print("FAILED at step 0 format: not a JSON object", file=sys.stderr)
        return 1
    try:
        confirmed = verify(document, pem)
    except ProofError as exc:
        print(f"FAILED at step {exc.step}: {exc.message}", file=sys.stderr)
        return 1
    for line in confirmed:
        print(f"  ok  {line}")
    print(f"OK: event {document['event'].get('seq')} is in the signed audit trail: {describe(document['event'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
