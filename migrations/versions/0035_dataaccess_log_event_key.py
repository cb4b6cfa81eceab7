"""dataaccess_access_log.audit_event_key: an access's log row names its audit event by key, so the access only
queues the event and the sequencer chains it after the commit (no chain lock in the access's transaction)

Rows written before keep their audit_seq (their events have no key); new rows have the key and no seq, and
readers find the seq through audit_event.event_key. One of the two is always set.

Revision ID: 0035
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dataaccess_access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_event_key", sa.String(length=32), nullable=True))
        batch_op.alter_column(
            "audit_seq", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        )
        batch_op.create_index(batch_op.f("ix_dataaccess_access_log_audit_event_key"), ["audit_event_key"], unique=True)
        batch_op.create_check_constraint(
            op.f("ck_dataaccess_access_log_audit_event_named"), "audit_seq IS NOT NULL OR audit_event_key IS NOT NULL"
        )


def downgrade():
    # Rows written since name their event by key only: give them its seq before the column goes.
    bind = op.get_bind()
    pending = bind.execute(
        sa.text(
            "SELECT count(*) FROM dataaccess_access_log l WHERE l.audit_seq IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM audit_event e WHERE e.event_key = l.audit_event_key)"
        )
    ).scalar()
    if pending:
        raise RuntimeError(f"{pending} access-log rows wait for their audit event; run `flask audit sequence` first")
    bind.execute(
        sa.text(
            "UPDATE dataaccess_access_log SET audit_seq = "
            "(SELECT e.seq FROM audit_event e WHERE e.event_key = dataaccess_access_log.audit_event_key) "
            "WHERE audit_seq IS NULL"
        )
    )
    with op.batch_alter_table("dataaccess_access_log", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_dataaccess_access_log_audit_event_named"), type_="check")
        batch_op.drop_index(batch_op.f("ix_dataaccess_access_log_audit_event_key"))
        batch_op.alter_column(
            "audit_seq", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        )
        batch_op.drop_column("audit_event_key")
