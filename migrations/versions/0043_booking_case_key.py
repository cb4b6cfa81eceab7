"""appointment_booking.case_key: an appointment booked for a case of another service (the advisory appointment
of a special-use permit), "permit:<public id>"

Revision ID: 0043
Revises: 0042
"""

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointment_booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_appointment_booking_case_key"), "appointment_booking", ["case_key"])


def downgrade():
    op.drop_index(op.f("ix_appointment_booking_case_key"), table_name="appointment_booking")
    with op.batch_alter_table("appointment_booking", schema=None) as batch_op:
        batch_op.drop_column("case_key")
