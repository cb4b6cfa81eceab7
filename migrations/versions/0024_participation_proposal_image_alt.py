"""participation proposal image: a short description of a proposal's image, one proposal per image

Revision ID: 0024
Revises: 0023
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("participation_proposal") as batch:
        batch.add_column(sa.Column("image_alt", sa.String(length=250), nullable=True))
    # The public image route finds the proposal by its image; an image belongs to one proposal only.
    op.create_index("ix_participation_proposal_image_key", "participation_proposal", ["image_key"], unique=True)


def downgrade():
    op.drop_index("ix_participation_proposal_image_key", table_name="participation_proposal")
    with op.batch_alter_table("participation_proposal") as batch:
        batch.drop_column("image_alt")
