"""participation_consultation.cache_token: replaced by every change to what the consultation's pages show, so
rendered pages (and the comments API's JSON) can be kept under it and a change shows at once

Revision ID: 0042
Revises: 0038
"""

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("participation_consultation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cache_token", sa.String(length=16), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("participation_consultation", schema=None) as batch_op:
        batch_op.drop_column("cache_token")
