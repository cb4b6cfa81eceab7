"""payments: fee catalogue with versioned tariffs, payment orders, attempts, refunds, provider events

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payment_fee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("budget_line", sa.String(length=60), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_payment_fee_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_fee")),
        sa.UniqueConstraint("code", name=op.f("uq_payment_fee_code")),
    )
    op.create_table(
        "payment_fee_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fee_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("rate_cents", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("minimum_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(amount_cents IS NOT NULL AND amount_cents > 0 AND rate_cents IS NULL) OR (rate_cents IS NOT NULL AND rate_cents > 0 AND amount_cents IS NULL AND unit IS NOT NULL)",
            name=op.f("ck_payment_fee_version_amount_or_rate"),
        ),
        sa.CheckConstraint("minimum_cents >= 0", name=op.f("ck_payment_fee_version_minimum")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_payment_fee_version_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(["fee_id"], ["payment_fee.id"], name=op.f("fk_payment_fee_version_fee_id_payment_fee")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_fee_version")),
        sa.UniqueConstraint("fee_id", "valid_from", name="uq_payment_fee_version_fee_day"),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kassenzeichen", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purpose", sa.String(length=140), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("case_reference", sa.String(length=60), nullable=False),
        sa.Column("fee_version_id", sa.Integer(), nullable=True),
        sa.Column("fee_code", sa.String(length=40), nullable=True),
        sa.Column("budget_line", sa.String(length=60), nullable=False),
        sa.Column("payer_user_id", sa.Integer(), nullable=True),
        sa.Column("payer_organisation_id", sa.Integer(), nullable=True),
        sa.Column("payer_email", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("return_url", sa.String(length=500), nullable=True),
        sa.Column("on_success", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("refund_reserved_cents", sa.Integer(), nullable=False),
        sa.Column("refunded_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("currency = 'EUR'", name=op.f("ck_payment_currency")),
        sa.CheckConstraint(
            "status in ('created', 'started', 'succeeded', 'failed', 'cancelled', 'expired', 'partially_refunded', 'refunded')",
            name=op.f("ck_payment_status"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payment_amount_positive")),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= refund_reserved_cents AND refund_reserved_cents <= amount_cents",
            name=op.f("ck_payment_refunds_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["fee_version_id"], ["payment_fee_version.id"], name=op.f("fk_payment_fee_version_id_payment_fee_version")
        ),
        sa.ForeignKeyConstraint(
            ["payer_organisation_id"], ["organisation.id"], name=op.f("fk_payment_payer_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["payer_user_id"], ["user_account.id"], name=op.f("fk_payment_payer_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("kassenzeichen", name=op.f("uq_payment_kassenzeichen")),
        sa.UniqueConstraint("public_id", name=op.f("uq_payment_public_id")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index("ix_payment_case", ["service", "case_reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_payer_user_id"), ["payer_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_succeeded_at"), ["succeeded_at"], unique=False)

    op.create_table(
        "payment_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("failure_code", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('started', 'succeeded', 'failed', 'cancelled', 'expired')",
            name=op.f("ck_payment_attempt_status"),
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name=op.f("fk_payment_attempt_payment_id_payment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempt")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_attempt_idempotency_key")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_payment_attempt_provider_reference")),
    )
    with op.batch_alter_table("payment_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_attempt_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "payment_provider_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_payment_provider_event_payment_id_payment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_provider_event")),
        sa.UniqueConstraint("provider", "event_id", name="uq_payment_provider_event_once"),
    )
    with op.batch_alter_table("payment_provider_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_provider_event_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "payment_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_by_client", sa.String(length=64), nullable=True),
        sa.Column("approval_request_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('awaiting_approval', 'rejected', 'pending', 'succeeded', 'failed')",
            name=op.f("ck_payment_refund_status"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payment_refund_amount_positive")),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name=op.f("fk_payment_refund_payment_id_payment")),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["user_account.id"], name=op.f("fk_payment_refund_requested_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refund")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_refund_idempotency_key")),
        sa.UniqueConstraint("provider_reference", name=op.f("uq_payment_refund_provider_reference")),
    )
    with op.batch_alter_table("payment_refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_refund_finished_at"), ["finished_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_refund_payment_id"), ["payment_id"], unique=False)


def downgrade():
    with op.batch_alter_table("payment_refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_refund_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payment_refund_finished_at"))

    op.drop_table("payment_refund")
    with op.batch_alter_table("payment_provider_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_provider_event_payment_id"))

    op.drop_table("payment_provider_event")
    with op.batch_alter_table("payment_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_attempt_payment_id"))

    op.drop_table("payment_attempt")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_succeeded_at"))
        batch_op.drop_index(batch_op.f("ix_payment_status"))
        batch_op.drop_index(batch_op.f("ix_payment_payer_user_id"))
        batch_op.drop_index(batch_op.f("ix_payment_created_at"))
        batch_op.drop_index("ix_payment_case")

    op.drop_table("payment")
    op.drop_table("payment_fee_version")
    op.drop_table("payment_fee")
