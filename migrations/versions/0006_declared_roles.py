"""roles are declared by the core and the services, validated at start-up (no CHECK lists)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    pass  # PLACEHOLDER: filled in by the part that owns this revision


def downgrade():
    pass
