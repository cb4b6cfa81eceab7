"""stored_file: uploads kept by the storage backend under names that are never the user's

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    pass  # PLACEHOLDER: filled in by the part that owns this revision


def downgrade():
    pass
