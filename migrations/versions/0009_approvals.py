"""approval_request: four-eyes approvals decided by a second person

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    pass  # PLACEHOLDER: filled in by the part that owns this revision


def downgrade():
    pass
