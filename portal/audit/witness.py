"""Witnesses: every signed checkpoint is also written outside the database, where the app's role cannot reach.

A database superuser can switch the append-only triggers off, rewrite audit events, recompute every hash and
delete the checkpoints that would have shown it. The witness keeps a copy of each signed checkpoint elsewhere,
and `flask audit verify` compares the chain with it: a checkpoint missing from the database, a range of events
rewritten since it was signed, or a tail deleted behind it fails the run, naming the first bad seq.

Targets (config):
- a directory (AUDIT_WITNESS_DIR; by default `audit-witness/` next to AUDIT_SIGNING_KEY_FILE): one read-only
  file per checkpoint, never replaced, written atomically (a temporary file hard-linked to its final name).
  Put it where the database server and its roles cannot write: a mount from another host, or a directory of the
  OS user that runs the worker on a machine other than the database's. It is read back by verify.
- syslog (AUDIT_WITNESS_SYSLOG: `udp://host:514`, `tcp://host:601` or `unix:///dev/log`): one RFC 5424 line per
  checkpoint for a SIEM to keep. Write-only: verify cannot read it back; the SIEM's copy is the evidence.
- more by configuration (AUDIT_WITNESS_EXTRA: "module:factory" paths): `factory(config)` returns an object with
  `name`, `write(entry)` and `entries()` (None for a write-only target), like the two above.

Witnesses are written at checkpoint time (every few minutes), never per event.
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from portal.audit.chain import format_time
from portal.audit.checkpoints import CheckpointFields, signature_valid, statement_of
from portal.timeutil import as_utc

FILE_PREFIX = "checkpoint-"
FILE_SUFFIX = ".txt"
FILE_NAME = re.compile(rf"^{FILE_PREFIX}\d{{20}}\{FILE_SUFFIX}$")


class WitnessError(RuntimeError):
    """A witness could not be written or read."""


@dataclass(frozen=True)
class WitnessEntry:
    """One witnessed checkpoint: the signed fields as they were signed, and where the copy lies."""

    checkpoint: CheckpointFields
    source: str  # e.g. the file's path, for messages

    @property
    def seq(self) -> int:
        return self.checkpoint.seq


def entry_text(checkpoint: CheckpointFields) -> str:
    """The witness copy: the signed statement as signed, then the key id and the base64 signature."""
    return f"{statement_of(checkpoint).decode()}\nkey_id={checkpoint.key_id}\nsignature={checkpoint.signature}\n"


def parse_entry(text: str, source: str) -> WitnessEntry:
    """Read a witness copy back; raises WitnessError if it is not one."""
    lines = text.rstrip("\n").split("\n")
    try:
        fields = dict(line.split("=", 1) for line in lines[1:])
        signed_at = datetime.strptime(fields["signed_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        checkpoint = CheckpointFields(
            id=-int(fields["seq"]),  # not a database row: a negative id can never collide with one
            seq=int(fields["seq"]),
            hash=fields["hash"],
            signed_at=signed_at,
            key_id=fields["key_id"],
            signature=fields["signature"],
            first_seq=int(fields["first_seq"]) if "first_seq" in fields else None,
            tree_size=int(fields["tree_size"]) if "tree_size" in fields else None,
            merkle_root=fields.get("merkle_root"),
        )
    except (KeyError, ValueError) as exc:
        raise WitnessError(f"{source} is not a witnessed checkpoint ({exc})") from None
    if entry_text(checkpoint) != text:
        raise WitnessError(f"{source} is not a witnessed checkpoint (it does not read back as written)")
    return WitnessEntry(checkpoint, source)


class Witness(Protocol):
    name: str

    def write(self, checkpoint: CheckpointFields) -> None:
        """Keep a copy of this signed checkpoint; idempotent for the same checkpoint, never replaces another."""

    def entries(self) -> list[WitnessEntry] | None:
        """Every copy kept, by seq; None if this target cannot be read back (syslog)."""


class DirectoryWitness:
    """One file per checkpoint (`checkpoint-<seq, 20 digits>.txt`, mode 0444), written once, never replaced."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = f"directory {self.path}"

    def file_for(self, seq: int) -> Path:
        return self.path / f"{FILE_PREFIX}{seq:020d}{FILE_SUFFIX}"

    def write(self, checkpoint: CheckpointFields) -> None:
        text = entry_text(checkpoint)
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.file_for(checkpoint.seq)
        temporary = self.path / f".tmp-{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # link() never replaces an existing name: the copy appears whole, once, or not at all.
            os.link(temporary, target)
        except FileExistsError:
            if target.read_text() != text:
                raise WitnessError(f"{target} exists and holds another checkpoint; it is never replaced") from None
        finally:
            temporary.unlink()
        dir_fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def entries(self) -> list[WitnessEntry]:
        if not self.path.is_dir():
            return []
        found = []
        for path in self._files():
            entry = parse_entry(path.read_text(errors="replace"), str(path))
            if path.name != self.file_for(entry.seq).name:
                raise WitnessError(f"{path} holds the checkpoint of seq {entry.seq}")
            found.append(entry)
        return found

    def last_seq(self) -> int | None:
        """The highest witnessed seq, from the file names alone (cheap: no file is read)."""
        files = self._files()
        return int(files[-1].name[len(FILE_PREFIX) : -len(FILE_SUFFIX)]) if files else None

    def _files(self) -> list[Path]:
        """The witness files by seq (their names sort so); other files in the directory are no concern here."""
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}") if FILE_NAME.match(p.name))


class SyslogWitness:
    """One RFC 5424 message per checkpoint to a syslog server or SIEM (facility authpriv, severity notice)."""

    PRIORITY = 10 * 8 + 5  # authpriv.notice

    def __init__(self, address: str) -> None:
        self.address = address
        self.name = f"syslog {address}"
        parts = urlsplit(address)
        if parts.scheme not in {"udp", "tcp", "unix"}:
            raise WitnessError(f"AUDIT_WITNESS_SYSLOG must be udp://, tcp:// or unix://, not {address!r}")
        self.scheme = parts.scheme
        self.target: Any = parts.path if parts.scheme == "unix" else (parts.hostname or "127.0.0.1", parts.port or 514)

    def message(self, checkpoint: CheckpointFields) -> bytes:
        header, *fields = entry_text(checkpoint).splitlines()
        stamp = format_time(as_utc(checkpoint.signed_at))
        host = socket.gethostname() or "-"
        text = f"<{self.PRIORITY}>1 {stamp} {host} stadtportal - audit-checkpoint - {header} {' '.join(fields)}"
        return text.encode()

    def write(self, checkpoint: CheckpointFields) -> None:
        data = self.message(checkpoint)
        try:
            if self.scheme == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.sendto(data, self.target)
            elif self.scheme == "tcp":
                with socket.create_connection(self.target, timeout=10) as sock:
                    sock.sendall(f"{len(data)} ".encode() + data)  # RFC 6587 octet counting
            else:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                    sock.sendto(data, self.target)
        except OSError as exc:
            raise WitnessError(f"{self.name}: {exc}") from None

    def entries(self) -> None:
        return None


def witness_dir(config: Mapping[str, Any]) -> Path | None:
    """AUDIT_WITNESS_DIR, by default `audit-witness/` beside the signing key; None when set to "off"."""
    configured = str(config.get("AUDIT_WITNESS_DIR") or "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    return Path(str(config["AUDIT_SIGNING_KEY_FILE"])).parent / "audit-witness"


def configured_witnesses(config: Mapping[str, Any]) -> list[Witness]:
    witnesses: list[Witness] = []
    directory = witness_dir(config)
    if directory is not None:
        witnesses.append(DirectoryWitness(directory))
    if config.get("AUDIT_WITNESS_SYSLOG"):
        witnesses.append(SyslogWitness(str(config["AUDIT_WITNESS_SYSLOG"])))
    for path in config.get("AUDIT_WITNESS_EXTRA") or []:
        module, _, factory = str(path).partition(":")
        witnesses.append(getattr(importlib.import_module(module), factory)(config))
    return witnesses


def entries_for(config: Mapping[str, Any], directory: str | None = None) -> list[WitnessEntry]:
    """The witnessed copies verify compares with: those in `directory` if given, else the configured targets'."""
    if directory:
        return DirectoryWitness(directory).entries()
    return readable_entries(configured_witnesses(config))


def readable_entries(witnesses: list[Witness]) -> list[WitnessEntry]:
    """Every witnessed checkpoint the readable targets hold, one per seq (the first target's copy wins)."""
    by_seq: dict[int, WitnessEntry] = {}
    for witness in witnesses:
        for entry in witness.entries() or []:
            by_seq.setdefault(entry.seq, entry)
    return [by_seq[seq] for seq in sorted(by_seq)]


def publish(
    witnesses: list[Witness],
    key: Ed25519PublicKey,
    database: list[CheckpointFields],
    new: CheckpointFields | None = None,
) -> list[str]:
    """Write `new` to every target; a readable target also gets the database's checkpoints after its last copy
    that it lacks (a write that failed after its commit, or checkpoints from before the witness existed). Only
    correctly signed checkpoints are copied. Returns the problems (the other targets are still written)."""
    problems = []
    for witness in witnesses:
        try:
            backlog = [] if new is None else [new]
            if isinstance(witness, DirectoryWitness):
                last = witness.last_seq()
                backlog = [cp for cp in database if last is None or cp.seq > last]
                if new is not None and all(cp.seq != new.seq for cp in backlog):
                    backlog.append(new)
            for checkpoint in sorted(backlog, key=lambda cp: cp.seq):
                if signature_valid(checkpoint, key):
                    witness.write(checkpoint)
        except (WitnessError, OSError) as exc:
            problems.append(f"{witness.name}: {exc}")
    return problems


def last_witnessed(witnesses: list[Witness]) -> WitnessEntry | None:
    """The witnessed checkpoint with the highest seq across the readable targets."""
    best: WitnessEntry | None = None
    for witness in witnesses:
        if isinstance(witness, DirectoryWitness):
            seq = witness.last_seq()
            if seq is not None and (best is None or seq > best.seq):
                path = witness.file_for(seq)
                best = parse_entry(path.read_text(errors="replace"), str(path))
        elif (entries := witness.entries()) and (best is None or entries[-1].seq > best.seq):
            best = entries[-1]
    return best
