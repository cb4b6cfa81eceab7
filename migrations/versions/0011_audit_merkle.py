"""audit_checkpoint: Merkle tree root over each checkpoint's range, for inclusion proofs

Existing rows stay version 1 (all three new columns null); checkpoints made from now on fill them and sign
them (statement v2). An index on seq finds the checkpoint covering an event.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("tree_size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("merkle_root", sa.String(length=64), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_audit_checkpoint_merkle_complete"),
            "(first_seq is null and tree_size is null and merkle_root is null) or "
            "(first_seq is not null and tree_size is not null and merkle_root is not null)",
        )
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_seq"), ["seq"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoint_seq"))
        batch_op.drop_constraint(op.f("ck_audit_checkpoint_merkle_complete"), type_="check")
        batch_op.drop_column("merkle_root")
        batch_op.drop_column("tree_size")
        batch_op.drop_column("first_seq")
