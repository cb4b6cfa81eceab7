"""reference_counter: per-prefix, per-year counters for human reference numbers

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reference_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_value >= 1", name=op.f("ck_reference_counter_last_value_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_counter")),
        sa.UniqueConstraint("prefix", "year", name="uq_reference_counter_prefix_year"),
    )


def downgrade():
    op.drop_table("reference_counter")
