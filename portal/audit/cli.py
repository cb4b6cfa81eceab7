"""`flask audit ...`: signed checkpoints, the public key for auditors, and the chain verifier."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.audit import checkpoints, sequencer, witness
from portal.audit.verify import DEFAULT_BATCH, last_seq, verify_chain
from portal.extensions import db

audit_cli = AppGroup("audit", help="The hash-chained audit trail: checkpoints and verification.")


def _key_file() -> str:
    return str(current_app.config["AUDIT_SIGNING_KEY_FILE"])


def _warn_if_readable_by_others(path: str) -> None:
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        click.echo(f"warning: {path} has mode {mode:04o}; it should be 0600", err=True)


@audit_cli.command("keygen")
def keygen() -> None:
    """Create the Ed25519 signing key (mode 0600) at AUDIT_SIGNING_KEY_FILE. Never overwrites a key.

    To rotate: export the old public key (flask audit public-key -o old.pem), move the old key file away,
    run keygen, and pass --public-key old.pem to verify from then on.
    """
    path = _key_file()
    try:
        key = checkpoints.generate_key_file(path)
    except FileExistsError:
        raise click.ClickException(
            f"{path} exists already; old checkpoints were signed with it, so it is not replaced"
        ) from None
    click.echo(f"Created {path} (key id {checkpoints.key_id_of(key.public_key())}).")
    click.echo("Give auditors the public key: flask audit public-key --output audit-public-key.pem")


@audit_cli.command("public-key")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the PEM here instead of stdout.")
def public_key(output: str | None) -> None:
    """Print the public key (PEM) that verifies checkpoint signatures; safe to hand to auditors."""
    try:
        key = checkpoints.load_private_key(_key_file()).public_key()
    except checkpoints.CheckpointKeyError as exc:
        raise click.ClickException(str(exc)) from None
    pem = checkpoints.public_key_pem(key)
    if output:
        Path(output).write_text(pem)
        click.echo(f"Wrote {output} (key id {checkpoints.key_id_of(key)}).", err=True)
    else:
        click.echo(pem, nl=False)
        click.echo(f"key id {checkpoints.key_id_of(key)}", err=True)


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Sign the chain's current end, store the checkpoint and copy it to the witness (the worker does this every
    few minutes: job audit.checkpoint)."""
    path = _key_file()
    try:
        run = checkpoints.create_checkpoint(path)
    except (checkpoints.CheckpointKeyError, checkpoints.CheckpointRangeError, witness.WitnessError) as exc:
        raise click.ClickException(str(exc)) from None
    if run.key_created:
        click.echo(f"Created the signing key {path} (mode 0600).", err=True)
    else:
        _warn_if_readable_by_others(path)
    row = run.checkpoint
    assert row is not None
    click.echo(
        f"Checkpoint {row.id}: seq={row.seq} hash={row.hash} key={row.key_id} "
        f"range={row.first_seq}..{row.seq} merkle_root={row.merkle_root}"
    )
    _fail_on_witness_problems(run)


def _fail_on_witness_problems(run: checkpoints.CheckpointRun) -> None:
    if run.witness_problems:
        for problem in run.witness_problems:
            click.echo(f"not witnessed: {problem}", err=True)
        raise SystemExit(1)


def _public_keys(paths: tuple[str, ...]) -> dict:
    """The keys given, plus the current signing key's public half if its file is here (after a key rotation,
    pass the old public keys so the checkpoints signed with them still verify)."""
    keys = []
    for path in paths:
        # A keys file may list several PEM public keys (current and retired), like AUDIT_PUBLIC_KEY_FILE.
        several = checkpoints.public_keys_in(Path(path).read_text(errors="replace"))
        keys.extend(several if len(several) > 1 else [checkpoints.load_public_key(path)])
    if Path(_key_file()).exists():
        keys.append(checkpoints.load_public_key(_key_file()))
    return checkpoints.keyring(keys)


class _Progress:
    """A bar on a terminal; on a pipe or in a log, a line to stderr every few seconds."""

    def __init__(self, total: int, quiet: bool, every_seconds: float = 2.0) -> None:
        self.total, self.done, self.quiet, self.every = total, 0, quiet, every_seconds
        self.bar = None
        self.last_line = time.monotonic()
        if not quiet and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label="Verifying", file=sys.stderr)
            self.bar.__enter__()

    def __call__(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif not self.quiet and time.monotonic() - self.last_line >= self.every:
            self.last_line = time.monotonic()
            click.echo(f"verified {self.done} of about {self.total} events", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@audit_cli.command("sequence")
def sequence() -> None:
    """Chain the audit events waiting in the queue now (the job audit.sequence does this every 10 s)."""
    state = _queue_state()
    count = sequencer.sequence()
    click.echo(f"{count} queued events chained ({state.count} were waiting).")


def _queue_state() -> sequencer.QueueState:
    with db.engine.connect() as connection:
        return sequencer.queue_state(connection)


def _warn_if_queue_is_stuck(warn_seconds: float) -> None:
    """Events that wait for longer than a sequencer round could take: the sequencer is stuck or not running."""
    state = _queue_state()
    age = state.oldest_age()
    if age is not None and age.total_seconds() > warn_seconds:
        click.echo(
            f"warning: {state.count} audit events wait for the sequencer, the oldest for {age.total_seconds():.0f} s "
            f"(since {state.oldest:%Y-%m-%d %H:%M:%S} UTC); is `flask jobs run` running? "
            "Chaining them before verifying.",
            err=True,
        )


@audit_cli.command("verify")
@click.option(
    "--public-key",
    "public_key_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="PEM public key(s) for checkpoint signatures, e.g. from before a key rotation. The public half of "
    "AUDIT_SIGNING_KEY_FILE is used too when that file exists.",
)
@click.option("--batch-size", default=DEFAULT_BATCH, show_default=True, help="Events fetched per query.")
@click.option("--max-problems", default=1, show_default=True, help="Stop after this many findings.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option(
    "--witness-dir",
    type=click.Path(file_okay=False),
    help="Compare with the witnessed checkpoints in this directory (e.g. a copy) instead of AUDIT_WITNESS_DIR.",
)
@click.option(
    "--checkpoint/--no-checkpoint",
    default=True,
    show_default=True,
    help="After an intact run, sign a checkpoint and witness it (only where AUDIT_SIGNING_KEY_FILE exists).",
)
@click.option(
    "--pending-warn-seconds",
    default=60.0,
    show_default=True,
    help="Warn about queued events older than this (a stuck or missing sequencer).",
)
def verify(
    public_key_files: tuple[str, ...],
    batch_size: int,
    max_problems: int,
    quiet: bool,
    witness_dir: str | None,
    checkpoint: bool,
    pending_warn_seconds: float,
) -> None:
    """Recompute every hash and link, look for gaps, check every signed checkpoint, and compare the checkpoints
    with their witnessed copies (a checkpoint deleted from the database, a range rewritten since it was
    witnessed or a tail deleted behind it fails the run).

    Queued events are chained first (and reported as a warning if they waited longer than
    --pending-warn-seconds). Exits 0 when the chain is intact, 1 naming the first broken seq otherwise; an
    intact run is then sealed with a new checkpoint (--no-checkpoint: not).
    """
    try:
        keys = _public_keys(public_key_files)
    except checkpoints.CheckpointKeyError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        entries = witness.entries_for(current_app.config, witness_dir)
    except witness.WitnessError as exc:
        click.echo(f"witness: {exc}", err=True)
        click.echo("Audit chain NOT intact: the witness cannot be read.", err=True)
        raise SystemExit(1) from None
    _warn_if_queue_is_stuck(pending_warn_seconds)
    try:
        sequencer.sequence(lock_timeout=sequencer.READER_LOCK_TIMEOUT)
    except sa.exc.OperationalError as exc:
        click.echo(f"warning: could not chain the queued events (the chain lock is held): {exc.orig}", err=True)
    engine = db.engine
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    # One snapshot for the whole run: the checkpoints read first and the events read later agree.
    with engine.connect().execution_options(**options) as connection:
        progress = _Progress(last_seq(connection), quiet)
        try:
            result = verify_chain(
                connection,
                keys,
                batch_size=batch_size,
                progress=progress,
                max_problems=max(1, max_problems),
                witness=entries,
            )
        finally:
            progress.close()
            connection.rollback()
    summary = (
        f"{result.events} events checked, {result.checkpoints} checkpoints verified "
        f"in {result.seconds:.1f} s ({result.rate:,.0f} events/s), {result.witnessed} witnessed copies compared"
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.ok:
        click.echo(f"Audit chain intact: {summary}; last seq {result.last_seq}, hash {result.last_hash}.")
        if checkpoint and Path(_key_file()).is_file():
            _seal()
        return
    for _seq, message in result.problems:
        click.echo(message, err=True)
    click.echo(f"Audit chain NOT intact: {summary}.", err=True)
    raise SystemExit(1)


def _seal() -> None:
    """Sign and witness the verified chain's end, so that what was checked now is protected from now on."""
    try:
        run = checkpoints.create_checkpoint(_key_file(), only_if_new=True)
    except (checkpoints.CheckpointRangeError, witness.WitnessError) as exc:
        raise click.ClickException(str(exc)) from None
    if run.checkpoint is not None:
        row = run.checkpoint
        click.echo(f"Checkpoint {row.id} signed up to seq {row.seq} and witnessed.")
    _fail_on_witness_problems(run)


def init_app(app: Flask) -> None:
    from portal.audit.jobs import declare_jobs

    app.cli.add_command(audit_cli)
    declare_jobs(app)
