"""payments: imported bank statements and their lines, matched to payment orders by Kassenzeichen

Revision ID: 0013
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payment_bank_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("account_iban", sa.String(length=34), nullable=False),
        sa.Column("statement_reference", sa.String(length=140), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("format in ('csv', 'camt053')", name=op.f("ck_payment_bank_statement_format")),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["user_account.id"], name=op.f("fk_payment_bank_statement_imported_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_bank_statement")),
    )
    with op.batch_alter_table("payment_bank_statement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_bank_statement_file_sha256"), ["file_sha256"], unique=False)

    op.create_table(
        "payment_bank_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("natural_key", sa.String(length=64), nullable=False),
        sa.Column("account_iban", sa.String(length=34), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("remitter_name", sa.String(length=140), nullable=False),
        sa.Column("remitter_iban", sa.String(length=34), nullable=True),
        sa.Column("remittance_text", sa.String(length=500), nullable=False),
        sa.Column("bank_reference", sa.String(length=140), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("kassenzeichen", sa.String(length=20), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status IN ('matched', 'assigned')) = (payment_id IS NOT NULL)",
            name=op.f("ck_payment_bank_line_payment_when_paying"),
        ),
        sa.CheckConstraint("direction in ('credit', 'debit')", name=op.f("ck_payment_bank_line_direction")),
        sa.CheckConstraint(
            "status in ('matched', 'assigned', 'unmatched', 'returned', 'ignored')",
            name=op.f("ck_payment_bank_line_status"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payment_bank_line_amount_positive")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["user_account.id"], name=op.f("fk_payment_bank_line_decided_by_user_account")
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name=op.f("fk_payment_bank_line_payment_id_payment")),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["payment_bank_statement.id"],
            name=op.f("fk_payment_bank_line_statement_id_payment_bank_statement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_bank_line")),
        sa.UniqueConstraint("natural_key", name=op.f("uq_payment_bank_line_natural_key")),
    )
    with op.batch_alter_table("payment_bank_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_bank_line_booking_date"), ["booking_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_bank_line_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_bank_line_statement_id"), ["statement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_bank_line_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_payment_bank_line_paying",
            ["payment_id"],
            unique=True,
            postgresql_where=sa.text("status IN ('matched', 'assigned')"),
            sqlite_where=sa.text("status IN ('matched', 'assigned')"),
        )


def downgrade():
    with op.batch_alter_table("payment_bank_line", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payment_bank_line_paying",
            postgresql_where=sa.text("status IN ('matched', 'assigned')"),
            sqlite_where=sa.text("status IN ('matched', 'assigned')"),
        )
        batch_op.drop_index(batch_op.f("ix_payment_bank_line_status"))
        batch_op.drop_index(batch_op.f("ix_payment_bank_line_statement_id"))
        batch_op.drop_index(batch_op.f("ix_payment_bank_line_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payment_bank_line_booking_date"))

    op.drop_table("payment_bank_line")
    with op.batch_alter_table("payment_bank_statement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_bank_statement_file_sha256"))

    op.drop_table("payment_bank_statement")
