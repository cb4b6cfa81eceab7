"""bookings made while acting for a business belong to it: appointment_booking.organisation_id

Revision ID: 0033
Revises: 0027
"""

from alembic import op
import sqlalchemy as sa


revision = "0033"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointment_booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_appointment_booking_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_booking_organisation_id_organisation"),
            "organisation",
            ["organisation_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("appointment_booking", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_appointment_booking_organisation_id_organisation"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_appointment_booking_organisation_id"))
        batch_op.drop_column("organisation_id")
