"""permits core: use types, street-to-zone list, tariff versions and rates, exemption reasons, permit cases and
their attachments

Revision ID: 0025
Revises: 0024
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "permit_exemption_reason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_de", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("covers_administrative_fee", sa.Boolean(), nullable=False),
        sa.Column("proof_required", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("percent >= 1 AND percent <= 100", name=op.f("ck_permit_exemption_reason_percent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_exemption_reason")),
        sa.UniqueConstraint("code", name=op.f("uq_permit_exemption_reason_code")),
    )
    op.create_table(
        "permit_street_zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("zone", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("zone >= 1 AND zone <= 9", name=op.f("ck_permit_street_zone_zone")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_street_zone")),
        sa.UniqueConstraint("name_key", name=op.f("uq_permit_street_zone_name_key")),
    )
    op.create_table(
        "permit_use_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_de", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("lead_working_days", sa.Integer(), nullable=False),
        sa.Column("required_attachments", sa.JSON(), nullable=False),
        sa.Column("has_setup_teardown", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("unit in ('day', 'week', 'month')", name=op.f("ck_permit_use_type_unit")),
        sa.CheckConstraint(
            "lead_working_days >= 0 AND lead_working_days <= 250", name=op.f("ck_permit_use_type_lead_time")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_use_type")),
        sa.UniqueConstraint("code", name=op.f("uq_permit_use_type_code")),
    )
    op.create_table(
        "permit_tariff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("statute", sa.String(length=200), nullable=False),
        sa.Column("minimum_fee_cents", sa.Integer(), nullable=False),
        sa.Column("administrative_fee_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("administrative_fee_cents >= 0", name=op.f("ck_permit_tariff_administrative_fee")),
        sa.CheckConstraint("minimum_fee_cents >= 0", name=op.f("ck_permit_tariff_minimum")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_permit_tariff_created_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_tariff")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_permit_tariff_effective_from")),
    )
    op.create_table(
        "permit_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("applicant_email", sa.String(length=254), nullable=False),
        sa.Column("applicant_phone", sa.String(length=40), nullable=False),
        sa.Column("applicant_address", sa.String(length=300), nullable=False),
        sa.Column("responsible_name", sa.String(length=200), nullable=False),
        sa.Column("responsible_phone", sa.String(length=40), nullable=False),
        sa.Column("use_type_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("house_number", sa.String(length=12), nullable=False),
        sa.Column("zone", sa.Integer(), nullable=True),
        sa.Column("location_geojson", sa.Text(), nullable=True),
        sa.Column("length_cm", sa.Integer(), nullable=True),
        sa.Column("width_cm", sa.Integer(), nullable=True),
        sa.Column("area_dm2", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("setup_from", sa.Date(), nullable=True),
        sa.Column("teardown_until", sa.Date(), nullable=True),
        sa.Column("carriageway_affected", sa.Boolean(), nullable=False),
        sa.Column("footway_affected", sa.Boolean(), nullable=False),
        sa.Column("traffic_order_requested", sa.Boolean(), nullable=False),
        sa.Column("exemption_reason_id", sa.Integer(), nullable=True),
        sa.Column("exemption_note", sa.String(length=1000), nullable=False),
        sa.Column("tariff_id", sa.Integer(), nullable=True),
        sa.Column("fee_cents", sa.Integer(), nullable=True),
        sa.Column("fee_breakdown", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state = 'draft' or reference is not null", name=op.f("ck_permit_application_reference_when_submitted")
        ),
        sa.CheckConstraint(
            "state in ('draft', 'submitted', 'formal_check', 'documents_requested', 'consultation', 'granted', 'refused', 'fee_notice', 'paid', 'active', 'extended', 'ended', 'revoked', 'withdrawn')",
            name=op.f("ck_permit_application_state"),
        ),
        sa.CheckConstraint(
            "state in ('draft', 'withdrawn') or (tariff_id is not null and fee_cents is not null)",
            name=op.f("ck_permit_application_fee_when_submitted"),
        ),
        sa.CheckConstraint("area_dm2 is null or area_dm2 > 0", name=op.f("ck_permit_application_area_positive")),
        sa.CheckConstraint("fee_cents is null or fee_cents >= 0", name=op.f("ck_permit_application_fee")),
        sa.CheckConstraint("length_cm is null or length_cm > 0", name=op.f("ck_permit_application_length_positive")),
        sa.CheckConstraint(
            "setup_from is null or starts_on is null or setup_from <= starts_on",
            name=op.f("ck_permit_application_setup"),
        ),
        sa.CheckConstraint(
            "starts_on is null or ends_on is null or ends_on >= starts_on", name=op.f("ck_permit_application_period")
        ),
        sa.CheckConstraint(
            "teardown_until is null or ends_on is null or teardown_until >= ends_on",
            name=op.f("ck_permit_application_teardown"),
        ),
        sa.CheckConstraint("width_cm is null or width_cm > 0", name=op.f("ck_permit_application_width_positive")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_permit_application_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["exemption_reason_id"],
            ["permit_exemption_reason.id"],
            name=op.f("fk_permit_application_exemption_reason_id_permit_exemption_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_permit_application_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["permit_tariff.id"], name=op.f("fk_permit_application_tariff_id_permit_tariff")
        ),
        sa.ForeignKeyConstraint(
            ["use_type_id"], ["permit_use_type.id"], name=op.f("fk_permit_application_use_type_id_permit_use_type")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_permit_application_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_application")),
        sa.UniqueConstraint("public_id", name=op.f("uq_permit_application_public_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_permit_application_reference")),
    )
    with op.batch_alter_table("permit_application", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_permit_application_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_permit_application_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_permit_application_submitted_at"), ["submitted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_permit_application_user_id"), ["user_id"], unique=False)

    op.create_table(
        "permit_tariff_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tariff_id", sa.Integer(), nullable=False),
        sa.Column("use_type_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("rate_cents", sa.Integer(), nullable=False),
        sa.Column("minimum_fee_cents", sa.Integer(), nullable=True),
        sa.CheckConstraint("unit in ('day', 'week', 'month')", name=op.f("ck_permit_tariff_rate_unit")),
        sa.CheckConstraint(
            "minimum_fee_cents is null or minimum_fee_cents >= 0", name=op.f("ck_permit_tariff_rate_minimum")
        ),
        sa.CheckConstraint("rate_cents > 0", name=op.f("ck_permit_tariff_rate_rate_positive")),
        sa.CheckConstraint("zone >= 1 AND zone <= 9", name=op.f("ck_permit_tariff_rate_zone")),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["permit_tariff.id"], name=op.f("fk_permit_tariff_rate_tariff_id_permit_tariff")
        ),
        sa.ForeignKeyConstraint(
            ["use_type_id"], ["permit_use_type.id"], name=op.f("fk_permit_tariff_rate_use_type_id_permit_use_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_tariff_rate")),
        sa.UniqueConstraint("tariff_id", "use_type_id", "zone", "unit", name="uq_permit_tariff_rate_key"),
    )
    with op.batch_alter_table("permit_tariff_rate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_permit_tariff_rate_tariff_id"), ["tariff_id"], unique=False)

    op.create_table(
        "permit_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("file_key", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"], ["user_account.id"], name=op.f("fk_permit_attachment_added_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["permit_application.id"],
            name=op.f("fk_permit_attachment_application_id_permit_application"),
        ),
        sa.ForeignKeyConstraint(
            ["file_key"], ["stored_file.key"], name=op.f("fk_permit_attachment_file_key_stored_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_attachment")),
        sa.UniqueConstraint("file_key", name=op.f("uq_permit_attachment_file_key")),
    )
    with op.batch_alter_table("permit_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_permit_attachment_application_id"), ["application_id"], unique=False)


def downgrade():
    with op.batch_alter_table("permit_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_attachment_application_id"))

    op.drop_table("permit_attachment")
    with op.batch_alter_table("permit_tariff_rate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_tariff_rate_tariff_id"))

    op.drop_table("permit_tariff_rate")
    with op.batch_alter_table("permit_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_application_user_id"))
        batch_op.drop_index(batch_op.f("ix_permit_application_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_permit_application_state"))
        batch_op.drop_index(batch_op.f("ix_permit_application_organisation_id"))

    op.drop_table("permit_application")
    op.drop_table("permit_tariff")
    op.drop_table("permit_use_type")
    op.drop_table("permit_street_zone")
    op.drop_table("permit_exemption_reason")
