"""reference_counter: per-prefix, per-year counters for human reference numbers

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    pass  # PLACEHOLDER: filled in by the part that owns this revision


def downgrade():
    pass
