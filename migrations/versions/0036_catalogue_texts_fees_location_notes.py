"""catalogue services say what to bring and what they cost, in German and English; a location's free-text
opening hours become a notes line, since the structured hours (appointment_opening_period) are the only source

Existing free text is kept as the note where a location has no structured hours (it is then the only thing a
citizen can read about it) and cleared where structured hours exist, because there it repeated or contradicted
them. Downgrading renames the column back; cleared texts stay empty.

Revision ID: 0036
Revises: 0035
"""

from alembic import op
import sqlalchemy as sa


revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalogue_service", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("description_en", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("bring", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("bring_en", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("fee_kind", sa.String(length=8), nullable=False, server_default="unknown"))
        batch_op.add_column(sa.Column("fee_cents", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_catalogue_service_fee_kind"), "fee_kind in ('unknown', 'free', 'fixed', 'varies')"
        )
        batch_op.create_check_constraint(
            op.f("ck_catalogue_service_fee_cents_only_fixed"),
            "(fee_kind = 'fixed' and fee_cents is not null and fee_cents > 0)"
            " or (fee_kind <> 'fixed' and fee_cents is null)",
        )
    op.execute(
        "UPDATE location SET opening_hours = '' WHERE EXISTS "
        "(SELECT 1 FROM appointment_opening_period p WHERE p.location_id = location.id)"
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.alter_column(
            "opening_hours", new_column_name="notes", existing_type=sa.Text(), existing_nullable=False
        )


def downgrade():
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.alter_column(
            "notes", new_column_name="opening_hours", existing_type=sa.Text(), existing_nullable=False
        )
    with op.batch_alter_table("catalogue_service", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_catalogue_service_fee_cents_only_fixed"), type_="check")
        batch_op.drop_constraint(op.f("ck_catalogue_service_fee_kind"), type_="check")
        for column in ("fee_cents", "fee_kind", "bring_en", "bring", "description_en", "name_en"):
            batch_op.drop_column(column)
