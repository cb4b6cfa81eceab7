"""payment.status 'withdrawn': the service that asked for the money withdrew the order (nothing is owed)

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OLD = "'created', 'started', 'succeeded', 'failed', 'cancelled', 'expired', 'partially_refunded', 'refunded'"
NEW = OLD + ", 'withdrawn'"


def upgrade():
    with op.batch_alter_table("payment") as batch:
        batch.drop_constraint(op.f("ck_payment_status"), type_="check")
        batch.create_check_constraint(op.f("ck_payment_status"), f"status in ({NEW})")


def downgrade():
    # Withdrawn orders were cancelled orders before this revision.
    op.execute("UPDATE payment SET status = 'cancelled' WHERE status = 'withdrawn'")
    with op.batch_alter_table("payment") as batch:
        batch.drop_constraint(op.f("ck_payment_status"), type_="check")
        batch.create_check_constraint(op.f("ck_payment_status"), f"status in ({OLD})")
