"""permit_statement: other departments' statements (Stellungnahmen) on a permit case, asked by the clerk with a
question and due date and answered by a member of the asked department

Revision ID: 0038
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op


revision = "0038"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "permit_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.Text(), server_default="", nullable=False),
        sa.Column("conditions", sa.Text(), server_default="", nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "verdict is null or verdict in ('agree', 'conditions', 'object')", name=op.f("ck_permit_statement_verdict")
        ),
        sa.CheckConstraint(
            "(verdict is null and answered_at is null) or (verdict is not null and answered_at is not null)",
            name=op.f("ck_permit_statement_answered"),
        ),
        sa.CheckConstraint(
            "verdict = 'conditions' or conditions = ''", name=op.f("ck_permit_statement_conditions_only_with_verdict")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["permit_application.id"],
            name=op.f("fk_permit_statement_application_id_permit_application"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_permit_statement_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["user_account.id"], name=op.f("fk_permit_statement_requested_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["user_account.id"], name=op.f("fk_permit_statement_answered_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_statement")),
    )
    op.create_index(op.f("ix_permit_statement_application_id"), "permit_statement", ["application_id"])
    op.create_index(op.f("ix_permit_statement_department_id"), "permit_statement", ["department_id"])


def downgrade():
    op.drop_index(op.f("ix_permit_statement_department_id"), table_name="permit_statement")
    op.drop_index(op.f("ix_permit_statement_application_id"), table_name="permit_statement")
    op.drop_table("permit_statement")
