"""audit sequencer: use cases queue their events in audit_pending, a sequencer chains them into audit_event

Revision ID: 0027
Revises: 0026
"""

from alembic import op
import sqlalchemy as sa


revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_key", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("on_behalf_of", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("subject_user_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
        sa.UniqueConstraint("event_key", name=op.f("uq_audit_pending_event_key")),
    )
    # Not batch_alter_table: on SQLite that would rebuild audit_event and drop its append-only triggers.
    op.add_column("audit_event", sa.Column("event_key", sa.String(length=32), nullable=True))
    op.create_index("ix_audit_event_event_key", "audit_event", ["event_key"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        # A queue: every row is inserted once and deleted within seconds. Vacuum it after a thousand dead rows
        # rather than after 20 % of a table that is nearly always empty, so the sequencer's scans stay short.
        op.execute(
            "ALTER TABLE audit_pending SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000)"
        )


def downgrade():
    # Events still queued would be lost: refuse instead (run `flask audit sequence` first).
    pending = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_pending")).scalar()
    if pending:
        raise RuntimeError(f"{pending} audit events are still queued; run `flask audit sequence` before downgrading")
    op.drop_index("ix_audit_event_event_key", table_name="audit_event")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_event", "event_key")
    else:
        # SQLite 3.35+ drops a column in place (no table rebuild, so the triggers stay).
        op.execute("ALTER TABLE audit_event DROP COLUMN event_key")
    op.drop_table("audit_pending")
