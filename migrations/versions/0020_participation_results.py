"""participation results: official answers and implementation status of proposals, detached authors

Revision ID: 0020
Revises: 0019
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

STATUS = (
    "(kind = 'answer' AND status IN ('accepted', 'under_review', 'rejected'))"
    " OR (kind = 'implementation' AND status IN ('planned', 'in_progress', 'done', 'stopped'))"
)


def upgrade():
    op.create_table(
        "participation_proposal_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(STATUS, name=op.f("ck_participation_proposal_update_status")),
        sa.CheckConstraint(
            "length(text) > 0 AND length(text) <= 5000", name=op.f("ck_participation_proposal_update_text")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["participation_proposal.id"],
            name=op.f("fk_participation_proposal_update_proposal_id_participation_proposal"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_participation_proposal_update_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_proposal_update")),
    )
    op.create_index(
        "ix_participation_proposal_update_history",
        "participation_proposal_update",
        ["proposal_id", "created_at", "id"],
        unique=False,
    )
    with op.batch_alter_table("participation_proposal") as batch:
        batch.add_column(sa.Column("answer_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("implementation_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("participation_consultation") as batch:
        batch.add_column(sa.Column("authors_detached_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("participation_consultation") as batch:
        batch.drop_column("authors_detached_at")
    with op.batch_alter_table("participation_proposal") as batch:
        batch.drop_column("answered_at")
        batch.drop_column("implementation_status")
        batch.drop_column("answer_status")
    op.drop_index("ix_participation_proposal_update_history", table_name="participation_proposal_update")
    op.drop_table("participation_proposal_update")
