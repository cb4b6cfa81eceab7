"""approval_request: four-eyes approvals decided by a second person

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("subject_user_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state in ('requested', 'approved', 'rejected', 'withdrawn', 'expired')",
            name=op.f("ck_approval_request_state"),
        ),
        sa.CheckConstraint("decided_by_id <> requested_by_id", name=op.f("ck_approval_request_second_person")),
        sa.CheckConstraint(
            "(state = 'requested' AND decided_by_id IS NULL AND decided_at IS NULL)"
            " OR (state IN ('approved', 'rejected') AND decided_by_id IS NOT NULL AND decided_at IS NOT NULL)"
            " OR (state IN ('withdrawn', 'expired') AND decided_by_id IS NULL AND decided_at IS NOT NULL)",
            name=op.f("ck_approval_request_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user_account.id"], name=op.f("fk_approval_request_decided_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_approval_request_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user_account.id"], name=op.f("fk_approval_request_requested_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
        sa.UniqueConstraint("reference", name=op.f("uq_approval_request_reference")),
    )
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_request_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_approval_request_requested_by_id"), ["requested_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_approval_request_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_approval_request_open_subject",
            ["kind", "subject_type", "subject_id"],
            unique=True,
            postgresql_where=sa.text("state = 'requested'"),
            sqlite_where=sa.text("state = 'requested'"),
        )


def downgrade():
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.drop_index("uq_approval_request_open_subject")
        batch_op.drop_index(batch_op.f("ix_approval_request_state"))
        batch_op.drop_index(batch_op.f("ix_approval_request_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_approval_request_department_id"))
    op.drop_table("approval_request")
