"""roles are declared by the core and the services, validated at start-up (no CHECK lists)

The CHECK constraints listed the core's roles; services now declare their own (portal.declarations), so the
database keeps role names as plain strings and the application validates them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CORE_GLOBAL = "role in ('moderator', 'treasury', 'dpo', 'platform_admin')"
CORE_DEPARTMENT = "role in ('clerk', 'department_admin', 'data_steward')"


def upgrade():
    with op.batch_alter_table("user_role") as batch:
        batch.drop_constraint(op.f("ck_user_role_role"), type_="check")
    with op.batch_alter_table("department_membership") as batch:
        batch.drop_constraint(op.f("ck_department_membership_role"), type_="check")


def downgrade():
    # Rows holding a service's role would violate the old lists: remove them first, as the old schema did not
    # know them.
    op.execute(sa.text(f"DELETE FROM user_role WHERE NOT ({CORE_GLOBAL})"))  # noqa: S608 - constants only
    op.execute(sa.text(f"DELETE FROM department_membership WHERE NOT ({CORE_DEPARTMENT})"))  # noqa: S608
    with op.batch_alter_table("user_role") as batch:
        batch.create_check_constraint(op.f("ck_user_role_role"), CORE_GLOBAL)
    with op.batch_alter_table("department_membership") as batch:
        batch.create_check_constraint(op.f("ck_department_membership_role"), CORE_DEPARTMENT)
