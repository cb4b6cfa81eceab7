"""dataaccess: break-glass sessions (emergency access without an agreement, reviewed by the dpo) and the access
log's link to them

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dataaccess_breakglass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("consumer_department_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("case_reference", sa.String(length=60), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finding", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(finding = 'open' AND reviewed_at IS NULL) OR (finding <> 'open' AND reviewed_by_id IS NOT NULL"
            " AND reviewed_at IS NOT NULL AND review_note IS NOT NULL)",
            name=op.f("ck_dataaccess_breakglass_review"),
        ),
        sa.CheckConstraint(
            "category in ('danger_to_life', 'public_safety', 'court_order')",
            name=op.f("ck_dataaccess_breakglass_category"),
        ),
        sa.CheckConstraint(
            "finding in ('open', 'justified', 'unjustified')", name=op.f("ck_dataaccess_breakglass_finding")
        ),
        sa.CheckConstraint("expires_at > opened_at", name=op.f("ck_dataaccess_breakglass_time_box")),
        sa.CheckConstraint("reviewed_by_id <> user_id", name=op.f("ck_dataaccess_breakglass_not_own_review")),
        sa.ForeignKeyConstraint(
            ["consumer_department_id"],
            ["department.id"],
            name=op.f("fk_dataaccess_breakglass_consumer_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataaccess_dataset.id"],
            name=op.f("fk_dataaccess_breakglass_dataset_id_dataaccess_dataset"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["user_account.id"], name=op.f("fk_dataaccess_breakglass_reviewed_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_dataaccess_breakglass_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_breakglass")),
    )
    with op.batch_alter_table("dataaccess_breakglass", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataaccess_breakglass_finding"), ["finding"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataaccess_breakglass_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("dataaccess_access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("breakglass_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_dataaccess_access_log_breakglass_id"), ["breakglass_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_dataaccess_access_log_breakglass_id_dataaccess_breakglass"),
            "dataaccess_breakglass",
            ["breakglass_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("dataaccess_access_log", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dataaccess_access_log_breakglass_id_dataaccess_breakglass"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_dataaccess_access_log_breakglass_id"))
        batch_op.drop_column("breakglass_id")

    with op.batch_alter_table("dataaccess_breakglass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataaccess_breakglass_user_id"))
        batch_op.drop_index(batch_op.f("ix_dataaccess_breakglass_finding"))

    op.drop_table("dataaccess_breakglass")
