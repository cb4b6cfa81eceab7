"""index audit_event.actor_id: the admin view filters by actor

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_event_actor_id", "audit_event", ["actor_id"])


def downgrade():
    op.drop_index("ix_audit_event_actor_id", table_name="audit_event")
