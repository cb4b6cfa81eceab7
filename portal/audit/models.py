"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import Model
from portal.models_base import UTCDateTime


class AuditEvent(Model):
    """One audited fact. Never updated, never deleted: database triggers refuse both."""

    __tablename__ = "audit_event"

    # Assigned by the sequencer (portal.audit.sequencer) under a lock, so the chain has no gaps or forks.
    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_type: Mapped[str] = mapped_column(sa.String(16))  # user, client, system, anonymous
    actor_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # the admin view filters by it
    on_behalf_of: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(64))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    subject_user_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)  # the citizen concerned
    details: Mapped[str] = mapped_column(sa.Text)  # canonical JSON, exactly as hashed
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(16))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The key audit.record handed out before the event had a seq (None for events chained before 0027). Not
    # hashed: a lookup aid, and unique so that no queued event can ever be chained twice.
    event_key: Mapped[str | None] = mapped_column(sa.String(32))

    __table_args__ = (
        sa.CheckConstraint("outcome in ('success', 'failure', 'denied')", name="outcome"),
        sa.CheckConstraint("actor_type in ('user', 'client', 'system', 'anonymous')", name="actor_type"),
        sa.Index("ix_audit_event_event_key", "event_key", unique=True),
    )


class AuditPending(Model):
    """An audited fact committed with its use case, waiting for the sequencer to give it a seq and a hash.

    Holds every hashed field of AuditEvent except seq and the hashes; the sequencer moves rows from here into
    audit_event in id order and deletes them in the same transaction, so each is chained exactly once.
    """

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_type: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    on_behalf_of: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(100))
    target_type: Mapped[str | None] = mapped_column(sa.String(64))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    subject_user_id: Mapped[int | None] = mapped_column(sa.Integer)
    details: Mapped[str] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(16))


class AuditCheckpoint(Model):
    """A signed statement "the chain up to seq ends in hash", made with a key kept outside the database.

    Version 2 (merkle_root set) also signs the Merkle tree over its range of events (first_seq to seq, the
    events after the previous checkpoint), so a single event can be proven to be covered. Version 1 rows,
    made before revision 0011, have no range and no root.
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), index=True)
    hash: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(sa.String(64))
    signature: Mapped[str] = mapped_column(sa.String(200))  # base64 Ed25519 over the checkpoint statement
    first_seq: Mapped[int | None] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    tree_size: Mapped[int | None] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    merkle_root: Mapped[str | None] = mapped_column(sa.String(64))  # hex, RFC 9162 tree over the range

    __table_args__ = (
        sa.CheckConstraint(
            "(first_seq is null and tree_size is null and merkle_root is null) or "
            "(first_seq is not null and tree_size is not null and merkle_root is not null)",
            name="merkle_complete",
        ),
    )

    @property
    def version(self) -> int:
        return 1 if self.merkle_root is None else 2
