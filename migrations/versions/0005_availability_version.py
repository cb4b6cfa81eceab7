"""appointment_location.availability_version: slot searches cache their answer keyed on it

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointment_location") as batch:
        batch.add_column(sa.Column("availability_version", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("appointment_location") as batch:
        batch.drop_column("availability_version")
