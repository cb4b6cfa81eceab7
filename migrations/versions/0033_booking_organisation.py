"""bookings made while acting for a business belong to it: appointment_booking.organisation_id; waiting-room
screens open the call display with a revocable display token: appointment_display_token

Revision ID: 0033
Revises: 0029
"""

from alembic import op
import sqlalchemy as sa


revision = "0033"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "appointment_display_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_appointment_display_token_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_appointment_display_token_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_display_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_appointment_display_token_token_hash")),
    )
    with op.batch_alter_table("appointment_display_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_display_token_location_id"), ["location_id"], unique=False)
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
    with op.batch_alter_table("appointment_display_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_display_token_location_id"))
    op.drop_table("appointment_display_token")
