"""Helpers for the audit tests: recording events, signing in without the login form, tampering as superuser."""

from __future__ import annotations

import hashlib
import secrets
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from portal.accounts.models import User, UserSession
from portal.actors import SYSTEM, Actor
from portal.audit import services as audit
from portal.audit.models import AuditCheckpoint
from portal.extensions import db
from portal.transaction import transaction


def record_events(
    count: int, *, subject: User | None = None, actor: Actor = SYSTEM, action: str = "account.login"
) -> None:
    """`count` committed events, each in its own transaction (as real use cases write them)."""
    for i in range(count):
        with transaction():
            audit.record(
                action,
                actor,
                subject_user_id=subject.id if subject else None,
                method="password",
                note=f'Ereignis „{i}“ mit Umlauten äöü\n"Zitat"',
            )


def sign_in(client: Any, user: User, method: str = "password+totp") -> None:
    """Sign `user` in on `client` the way portal.accounts.sessions does: a UserSession row and its raw token
    as Flask-Login's user id in the cookie session. Used instead of the login form, which another part builds."""
    raw = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=hashlib.sha256(raw.encode()).hexdigest(), user_id=user.id, method=method))
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = raw
        session["_fresh"] = True


def tamper(sql: str, **params: Any) -> None:
    """Run `sql` against audit_event or audit_checkpoint past their append-only triggers, as the database
    superuser could.

    PostgreSQL: triggers do not fire with session_replication_role = replica (superuser only), set for this
    transaction alone. SQLite: the triggers are dropped in this test's own copy of the database.
    """
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
            conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_checkpoint_no_update"))
            conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_checkpoint_no_delete"))
        conn.execute(sa.text(sql), params)


def rehash_from(seq: int) -> None:
    """Recompute the links and hashes from `seq` on, as an attacker with database access would after a change."""
    from portal.audit.chain import hash_of
    from portal.audit.models import AuditEvent

    columns = [c.name for c in AuditEvent.__table__.columns]
    db.session.expire_all()
    events = [
        SimpleNamespace(**{name: getattr(event, name) for name in columns})
        for event in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq))
    ]
    prev = db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == seq - 1))
    db.session.rollback()
    for event in events:
        event.prev_hash = prev
        event.hash = hash_of(event)
        tamper("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = :s", p=prev, h=event.hash, s=event.seq)
        prev = event.hash


def checkpoint(runner: Any) -> Any:
    """`flask audit checkpoint`, which must succeed."""
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    return result


def verify(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["audit", "verify", "--quiet", *args])


def seal(app: Any, runner: Any) -> AuditCheckpoint:
    """`flask audit checkpoint`, and the public key exported where the portal reads it (as an operator would)."""
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    exported = runner.invoke(args=["audit", "public-key", "-o", app.config["AUDIT_PUBLIC_KEY_FILE"]])
    assert exported.exit_code == 0, exported.output
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
