"""street: the city's street list for offline geocoding

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "street",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=5), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=False),
        sa.Column("number_from", sa.Integer(), nullable=True),
        sa.Column("number_to", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("line", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("latitude between -90 and 90", name=op.f("ck_street_latitude")),
        sa.CheckConstraint("longitude between -180 and 180", name=op.f("ck_street_longitude")),
        sa.CheckConstraint(
            "number_from is null or number_to is null or (number_from >= 0 and number_from <= number_to)",
            name=op.f("ck_street_number_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_street")),
        sa.UniqueConstraint("code", name=op.f("uq_street_code")),
    )
    with op.batch_alter_table("street", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_street_name_key"), ["name_key"], unique=False)


def downgrade():
    with op.batch_alter_table("street", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_street_name_key"))
    op.drop_table("street")
