"""The audit trail's jobs for `flask worker`: chain queued events (every 10 s, on every host), sign a checkpoint
and copy it to the witness (every AUDIT_CHECKPOINT_MINUTES, 5 by default, where the key is; skipped when nothing
happened since the last one) and verify the whole chain against the witness (daily, where the key is).

Declared only on a host that has the signing key (AUDIT_SIGNING_KEY_FILE exists when the app starts): the
other hosts neither sign nor need to. Operators who keep the key away from the web hosts run
`flask audit checkpoint` and `flask audit verify` from cron on the host that has it, as before.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app

from portal.extensions import db


class ChainBrokenError(RuntimeError):
    """The verifier found the chain altered: the job fails, so its metric and log say so."""


class NotWitnessedError(RuntimeError):
    """The checkpoint was signed and stored, but a witness target could not be written: the job fails."""


def sign_checkpoint() -> str:
    from portal.audit import checkpoints

    run = checkpoints.create_checkpoint(current_app.config["AUDIT_SIGNING_KEY_FILE"], only_if_new=True)
    if run.witness_problems:
        raise NotWitnessedError("; ".join(run.witness_problems))
    row = run.checkpoint
    return "nothing new since the last checkpoint" if row is None else f"checkpoint {row.id} up to seq {row.seq}"


def verify_everything() -> str:
    from portal.audit import checkpoints, witness
    from portal.audit.verify import verify_chain

    keys = [checkpoints.load_public_key(current_app.config["AUDIT_SIGNING_KEY_FILE"])]
    retired = current_app.config.get("AUDIT_PUBLIC_KEY_FILE")
    if retired and Path(retired).is_file():  # the keys of checkpoints signed before a rotation
        keys.extend(checkpoints.public_keys_in(Path(retired).read_text(errors="replace")))
    from portal.audit import sequencer

    sequencer.sequence(lock_timeout=sequencer.READER_LOCK_TIMEOUT)  # what committed so far is verified too
    engine = db.engine
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection:
        try:
            result = verify_chain(
                connection, checkpoints.keyring(keys), witness=witness.entries_for(current_app.config)
            )
        finally:
            connection.rollback()
    if not result.ok:
        raise ChainBrokenError("; ".join(message for _seq, message in result.problems))
    return f"{result.events} events, {result.checkpoints} checkpoints intact"


def declare_jobs(app: Flask) -> None:
    from portal.audit import sequencer
    from portal.jobs import Job, declare_job

    declare_job(app, Job("audit.sequence", sequencer.JOB_EVERY, sequencer.sequence, "portal"))
    if not Path(app.config.get("AUDIT_SIGNING_KEY_FILE") or "").is_file():
        return
    every = timedelta(minutes=float(app.config.get("AUDIT_CHECKPOINT_MINUTES", 5)))
    declare_job(app, Job("audit.checkpoint", every, sign_checkpoint, "portal"))
    declare_job(app, Job("audit.verify", timedelta(days=1), verify_everything, "portal"))
