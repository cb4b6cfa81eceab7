"""participation moderation: flags, moderation cases and their decisions, user blocks, appeals

Revision ID: 0019
Revises: 0018
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participation_user_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("until > created_at", name=op.f("ck_participation_user_block_period")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_participation_user_block_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"], ["user_account.id"], name=op.f("fk_participation_user_block_lifted_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_participation_user_block_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_user_block")),
    )
    with op.batch_alter_table("participation_user_block", schema=None) as batch_op:
        batch_op.create_index("ix_participation_user_block_user", ["user_id", "until"], unique=False)

    op.create_table(
        "participation_moderation_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("contribution_kind", sa.String(length=16), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'open' AND decision IS NULL AND decided_at IS NULL)"
            " OR (state = 'decided' AND decision IS NOT NULL AND decided_at IS NOT NULL)",
            name=op.f("ck_participation_moderation_case_decided"),
        ),
        sa.CheckConstraint(
            "cause in ('flag', 'pending', 'staff', 'appeal')", name=op.f("ck_participation_moderation_case_cause")
        ),
        sa.CheckConstraint(
            "contribution_kind in ('proposal', 'comment')", name=op.f("ck_participation_moderation_case_kind")
        ),
        sa.CheckConstraint(
            "decision is null or decision in ('hide', 'restore', 'publish', 'dismiss')",
            name=op.f("ck_participation_moderation_case_decision"),
        ),
        sa.CheckConstraint("state in ('open', 'decided')", name=op.f("ck_participation_moderation_case_state")),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_moderation_case_consultation_id_participation_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_participation_moderation_case_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_moderation_case")),
    )
    with op.batch_alter_table("participation_moderation_case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_participation_moderation_case_consultation", ["consultation_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_participation_moderation_case_contribution",
            ["contribution_kind", "contribution_id", "id"],
            unique=False,
        )
        batch_op.create_index("ix_participation_moderation_case_queue", ["state", "created_at", "id"], unique=False)
        # One open case per contribution (a partial unique index, on SQLite and PostgreSQL alike).
        batch_op.create_index(
            "uq_participation_moderation_case_open",
            ["contribution_kind", "contribution_id"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    op.create_table(
        "participation_appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("contribution_kind", sa.String(length=16), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("(state = 'open') = (decided_at IS NULL)", name=op.f("ck_participation_appeal_decided")),
        sa.CheckConstraint("contribution_kind in ('proposal', 'comment')", name=op.f("ck_participation_appeal_kind")),
        sa.CheckConstraint("state in ('open', 'granted', 'rejected')", name=op.f("ck_participation_appeal_state")),
        sa.CheckConstraint("length(text) <= 2000", name=op.f("ck_participation_appeal_text_length")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_participation_appeal_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["participation_moderation_case.id"],
            name=op.f("fk_participation_appeal_case_id_participation_moderation_case"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_appeal_consultation_id_participation_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user_account.id"], name=op.f("fk_participation_appeal_decided_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_appeal")),
        sa.UniqueConstraint("contribution_kind", "contribution_id", name="uq_participation_appeal_once"),
    )
    with op.batch_alter_table("participation_appeal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_appeal_state"), ["state"], unique=False)

    op.create_table(
        "participation_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("contribution_kind", sa.String(length=16), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("contribution_kind in ('proposal', 'comment')", name=op.f("ck_participation_flag_kind")),
        sa.CheckConstraint("state in ('open', 'decided')", name=op.f("ck_participation_flag_state")),
        sa.CheckConstraint("length(reason_text) <= 1000", name=op.f("ck_participation_flag_reason_length")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["participation_moderation_case.id"],
            name=op.f("fk_participation_flag_case_id_participation_moderation_case"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_flag_consultation_id_participation_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["user_account.id"], name=op.f("fk_participation_flag_reporter_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_flag")),
        sa.UniqueConstraint("contribution_kind", "contribution_id", "reporter_id", name="uq_participation_flag_once"),
    )
    with op.batch_alter_table("participation_flag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_flag_case_id"), ["case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("participation_flag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_flag_case_id"))
    op.drop_table("participation_flag")

    with op.batch_alter_table("participation_appeal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_appeal_state"))
    op.drop_table("participation_appeal")

    with op.batch_alter_table("participation_moderation_case", schema=None) as batch_op:
        batch_op.drop_index("uq_participation_moderation_case_open")
        batch_op.drop_index("ix_participation_moderation_case_queue")
        batch_op.drop_index("ix_participation_moderation_case_contribution")
        batch_op.drop_index("ix_participation_moderation_case_consultation")
    op.drop_table("participation_moderation_case")

    with op.batch_alter_table("participation_user_block", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_user_block_user")
    op.drop_table("participation_user_block")
