"""participation council access: named accounts may read a consultation's figures before it closes

Revision ID: 0023
Revises: 0022
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participation_consultation_reader",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_at >= granted_at", name=op.f("ck_participation_consultation_reader_period")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_consultation_reader_consultation_id_participation_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["user_account.id"],
            name=op.f("fk_participation_consultation_reader_granted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
            name=op.f("fk_participation_consultation_reader_revoked_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_participation_consultation_reader_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_consultation_reader")),
    )
    with op.batch_alter_table("participation_consultation_reader", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_consultation_reader_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "ix_participation_consultation_reader_consultation", ["consultation_id", "granted_at"], unique=False
        )
        # One grant in force per consultation and account (a partial unique index, on SQLite and PostgreSQL alike).
        batch_op.create_index(
            "uq_participation_consultation_reader_active",
            ["consultation_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("participation_consultation_reader", schema=None) as batch_op:
        batch_op.drop_index("uq_participation_consultation_reader_active")
        batch_op.drop_index("ix_participation_consultation_reader_consultation")
        batch_op.drop_index(batch_op.f("ix_participation_consultation_reader_user_id"))
    op.drop_table("participation_consultation_reader")
