"""Merkle trees over a checkpoint's range of events, as RFC 9162 §2.1 (and RFC 6962 §2.1) define them.

- leaf hash  = SHA-256(0x00 || leaf),  node hash = SHA-256(0x01 || left || right);
- a tree of n > 1 leaves splits at k, the largest power of two smaller than n: MTH(D[0:k]) left, MTH(D[k:n]) right;
- the tree of no leaves has the root SHA-256 of the empty string.

The leaf of an audit event is the 32 raw bytes of its chain hash (`AuditEvent.hash`, hex-decoded). That hash
already covers every column of the event and its predecessor's hash, so a proof ties the event's content and
its place in the chain to the signed root. tools/verify_audit_proof.py implements the same functions on its
own (the standard library only) for auditors; tests hold the two to the same vectors.

Everything here streams: the leaves are read once, in order, with O(log n) memory, so a day's range of
events never has to sit in memory.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def event_leaf_hash(event_hash_hex: str) -> bytes:
    """The leaf hash of an audit event: SHA-256(0x00 || the 32 bytes of its chain hash)."""
    return leaf_hash(bytes.fromhex(event_hash_hex))


class RootBuilder:
    """The root of the tree over leaf hashes added one by one, left to right, in O(log n) memory.

    The RFC's tree over n leaves is the perfect subtrees of n's binary decomposition (largest first), joined
    from the right; the stack holds exactly those subtrees, merging two of equal size as soon as they meet.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, leaf_hash_: bytes) -> None:
        size, value = 1, leaf_hash_
        stack = self._stack
        while stack and stack[-1][0] == size:
            value = node_hash(stack.pop()[1], value)
            size *= 2
        stack.append((size, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    builder = RootBuilder()
    for value in leaf_hashes:
        builder.add(value)
    return builder.root()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def path_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [start, end) whose subtree roots make up the audit path of leaf `index`, bottom-up
    (RFC 9162 §2.1.3.1: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) : MTH(D[0:k]))."""
    if not 0 <= index < size:
        raise IndexError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    low, high = 0, size
    while high - low > 1:
        k = _split(high - low)
        if index < low + k:
            ranges.append((low + k, high))
            high = low + k
        else:
            ranges.append((low, low + k))
            low += k
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, size: int, leaf_hashes: Iterable[bytes]) -> tuple[list[bytes], bytes, bytes]:
    """The audit path of leaf `index` in the tree over the first `size` of `leaf_hashes`, read once in order.

    Returns (path bottom-up, the leaf's own hash, the tree's root). Raises ValueError when fewer than `size`
    leaves arrive (a gap in the data: no proof can be honest then).
    """
    ranges = path_ranges(index, size)
    by_start = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    builders = [RootBuilder() for _ in ranges]
    whole = RootBuilder()
    own: bytes | None = None
    cursor = 0  # position in by_start: the range the current leaf falls into, if any
    count = 0
    for position, value in enumerate(leaf_hashes):
        if position >= size:
            break
        count += 1
        whole.add(value)
        if position == index:
            own = value
            continue
        while ranges[by_start[cursor]][1] <= position:
            cursor += 1
        builders[by_start[cursor]].add(value)
    if count < size or own is None:
        raise ValueError(f"only {count} of {size} leaves were found")
    return [builder.root() for builder in builders], own, whole.root()


def root_from_inclusion_proof(index: int, size: int, leaf_hash_: bytes, path: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that `path` leads to from leaf `index` of a tree of `size` leaves.

    Raises ValueError if the path has the wrong length for that position (a proof for another tree shape).
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    fn, sn = index, size - 1
    result = leaf_hash_
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


def verify_inclusion(index: int, size: int, leaf_hash_: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """True if `path` proves that `leaf_hash_` is leaf `index` of the tree of `size` leaves with this root."""
    try:
        computed = root_from_inclusion_proof(index, size, leaf_hash_, path)
    except ValueError:
        return False
    return hmac.compare_digest(computed, root)
