"""appointments: fees of catalogue services (a code of the payments fee catalogue, refund policy) and per booking

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "appointment_service_fee",
        sa.Column("catalogue_service_id", sa.Integer(), nullable=False),
        sa.Column("fee_code", sa.String(length=40), nullable=False),
        sa.Column("refund_hours_before", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "refund_hours_before is null or refund_hours_before between 0 and 8760",
            name=op.f("ck_appointment_service_fee_refund_hours_before"),
        ),
        sa.ForeignKeyConstraint(
            ["catalogue_service_id"],
            ["catalogue_service.id"],
            name=op.f("fk_appointment_service_fee_catalogue_service_id_catalogue_service"),
        ),
        sa.PrimaryKeyConstraint("catalogue_service_id", name=op.f("pk_appointment_service_fee")),
    )
    op.create_table(
        "appointment_booking_fee",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("refund_hours_before", sa.Integer(), nullable=True),
        sa.Column("payment_public_id", sa.String(length=32), nullable=True),
        sa.Column("kassenzeichen", sa.String(length=20), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settlement", sa.String(length=20), nullable=True),
        sa.Column("refund_cents", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "method = 'counter' or payment_public_id is not null",
            name=op.f("ck_appointment_booking_fee_online_has_order"),
        ),
        sa.CheckConstraint("method in ('online', 'counter')", name=op.f("ck_appointment_booking_fee_method")),
        sa.CheckConstraint(
            "settlement is null or settlement in ('refund_requested', 'no_refund', 'order_cancelled')",
            name=op.f("ck_appointment_booking_fee_settlement"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_appointment_booking_fee_amount_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["appointment_booking.id"],
            name=op.f("fk_appointment_booking_fee_booking_id_appointment_booking"),
        ),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_appointment_booking_fee")),
        sa.UniqueConstraint("payment_public_id", name=op.f("uq_appointment_booking_fee_payment_public_id")),
    )


def downgrade():
    op.drop_table("appointment_booking_fee")
    op.drop_table("appointment_service_fee")
