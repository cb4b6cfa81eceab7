"""dataaccess: datasets and fields, purposes, legal bases, versioned access agreements, records, citizen requests,
machine clients, the access log

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dataaccess_legal_basis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_legal_basis")),
        sa.UniqueConstraint("label", name=op.f("uq_dataaccess_legal_basis_label")),
    )
    op.create_table(
        "dataaccess_purpose",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_purpose")),
        sa.UniqueConstraint("code", name=op.f("uq_dataaccess_purpose_code")),
    )
    op.create_table(
        "dataaccess_dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("subject_kind in ('citizen', 'case')", name=op.f("ck_dataaccess_dataset_subject_kind")),
        sa.CheckConstraint("retention_days > 0", name=op.f("ck_dataaccess_dataset_retention")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_dataaccess_dataset_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_dataset")),
        sa.UniqueConstraint("key", name=op.f("uq_dataaccess_dataset_key")),
    )
    with op.batch_alter_table("dataaccess_dataset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataaccess_dataset_department_id"), ["department_id"], unique=False)

    op.create_table(
        "dataaccess_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("consumer_department_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("legal_basis_id", sa.Integer(), nullable=False),
        sa.Column("legal_basis_citation", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("requires_case_reference", sa.Boolean(), nullable=False),
        sa.Column("requires_citizen_request", sa.Boolean(), nullable=False),
        sa.Column("rate_limit_per_hour", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("steward_approval_id", sa.Integer(), nullable=True),
        sa.Column("dpo_approval_id", sa.Integer(), nullable=True),
        sa.Column("steward_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("steward_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dpo_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("dpo_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state = 'draft' OR (requested_by_id IS NOT NULL AND submitted_at IS NOT NULL)",
            name=op.f("ck_dataaccess_agreement_submitted"),
        ),
        sa.CheckConstraint(
            "state NOT IN ('approved', 'revoked', 'superseded') OR (steward_approved_at IS NOT NULL AND dpo_approved_at IS NOT NULL AND approved_at IS NOT NULL)",
            name=op.f("ck_dataaccess_agreement_both_approved"),
        ),
        sa.CheckConstraint(
            "state in ('draft', 'submitted', 'approved', 'rejected', 'revoked', 'superseded')",
            name=op.f("ck_dataaccess_agreement_state"),
        ),
        sa.CheckConstraint(
            "dpo_approved_by_id <> requested_by_id", name=op.f("ck_dataaccess_agreement_dpo_not_requester")
        ),
        sa.CheckConstraint("rate_limit_per_hour > 0", name=op.f("ck_dataaccess_agreement_rate_limit")),
        sa.CheckConstraint(
            "steward_approved_by_id <> dpo_approved_by_id", name=op.f("ck_dataaccess_agreement_two_approvers")
        ),
        sa.CheckConstraint(
            "steward_approved_by_id <> requested_by_id", name=op.f("ck_dataaccess_agreement_steward_not_requester")
        ),
        sa.CheckConstraint("valid_to >= valid_from", name=op.f("ck_dataaccess_agreement_validity")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_dataaccess_agreement_version")),
        sa.ForeignKeyConstraint(
            ["consumer_department_id"],
            ["department.id"],
            name=op.f("fk_dataaccess_agreement_consumer_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_dataaccess_agreement_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataaccess_dataset.id"],
            name=op.f("fk_dataaccess_agreement_dataset_id_dataaccess_dataset"),
        ),
        sa.ForeignKeyConstraint(
            ["dpo_approval_id"],
            ["approval_request.id"],
            name=op.f("fk_dataaccess_agreement_dpo_approval_id_approval_request"),
        ),
        sa.ForeignKeyConstraint(
            ["dpo_approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_dataaccess_agreement_dpo_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["user_account.id"], name=op.f("fk_dataaccess_agreement_ended_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["legal_basis_id"],
            ["dataaccess_legal_basis.id"],
            name=op.f("fk_dataaccess_agreement_legal_basis_id_dataaccess_legal_basis"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user_account.id"], name=op.f("fk_dataaccess_agreement_requested_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["steward_approval_id"],
            ["approval_request.id"],
            name=op.f("fk_dataaccess_agreement_steward_approval_id_approval_request"),
        ),
        sa.ForeignKeyConstraint(
            ["steward_approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_dataaccess_agreement_steward_approved_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_agreement")),
        sa.UniqueConstraint("reference", "version", name="uq_dataaccess_agreement_version"),
    )
    with op.batch_alter_table("dataaccess_agreement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataaccess_agreement_consumer_department_id"), ["consumer_department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dataaccess_agreement_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataaccess_agreement_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataaccess_agreement_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_dataaccess_agreement_in_force",
            ["reference"],
            unique=True,
            postgresql_where=sa.text("state = 'approved'"),
            sqlite_where=sa.text("state = 'approved'"),
        )
        batch_op.create_index(
            "uq_dataaccess_agreement_open",
            ["reference"],
            unique=True,
            postgresql_where=sa.text("state IN ('draft', 'submitted')"),
            sqlite_where=sa.text("state IN ('draft', 'submitted')"),
        )

    op.create_table(
        "dataaccess_citizen_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("consumer_department_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("purpose_code", sa.String(length=40), nullable=False),
        sa.Column("standing", sa.Boolean(), nullable=False),
        sa.Column("case_reference", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "NOT standing OR used_at IS NULL", name=op.f("ck_dataaccess_citizen_request_standing_not_used")
        ),
        sa.ForeignKeyConstraint(
            ["consumer_department_id"],
            ["department.id"],
            name=op.f("fk_dataaccess_citizen_request_consumer_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataaccess_dataset.id"],
            name=op.f("fk_dataaccess_citizen_request_dataset_id_dataaccess_dataset"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_dataaccess_citizen_request_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_citizen_request")),
    )
    with op.batch_alter_table("dataaccess_citizen_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dataaccess_citizen_request_lookup", ["user_id", "dataset_id", "consumer_department_id"], unique=False
        )

    op.create_table(
        "dataaccess_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("agreement_reference", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_dataaccess_client_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_dataaccess_client_department_id_department")
        ),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"], name=op.f("fk_dataaccess_client_token_id_api_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_client")),
        sa.UniqueConstraint("token_id", name=op.f("uq_dataaccess_client_token_id")),
    )
    op.create_table(
        "dataaccess_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("special_category", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataaccess_dataset.id"], name=op.f("fk_dataaccess_field_dataset_id_dataaccess_dataset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_field")),
        sa.UniqueConstraint("dataset_id", "name", name="uq_dataaccess_field_dataset_name"),
    )
    op.create_table(
        "dataaccess_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=100), nullable=False),
        sa.Column("subject_user_id", sa.Integer(), nullable=True),
        sa.Column("subject_reference", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(subject_user_id IS NULL) <> (subject_reference IS NULL)", name=op.f("ck_dataaccess_record_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataaccess_dataset.id"], name=op.f("fk_dataaccess_record_dataset_id_dataaccess_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["subject_user_id"], ["user_account.id"], name=op.f("fk_dataaccess_record_subject_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_record")),
        sa.UniqueConstraint("dataset_id", "record_key", name="uq_dataaccess_record_key"),
    )
    with op.batch_alter_table("dataaccess_record", schema=None) as batch_op:
        batch_op.create_index("ix_dataaccess_record_reference", ["dataset_id", "subject_reference"], unique=False)
        batch_op.create_index("ix_dataaccess_record_user", ["dataset_id", "subject_user_id"], unique=False)

    op.create_table(
        "dataaccess_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("refusal_code", sa.String(length=40), nullable=True),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("consumer_department_id", sa.Integer(), nullable=True),
        sa.Column("owner_department_id", sa.Integer(), nullable=True),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("agreement_reference", sa.String(length=40), nullable=True),
        sa.Column("agreement_version", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("subject_user_id", sa.Integer(), nullable=True),
        sa.Column("subject_reference", sa.String(length=100), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("purpose_code", sa.String(length=40), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("case_reference", sa.String(length=60), nullable=True),
        sa.CheckConstraint(
            "(outcome = 'granted' AND refusal_code IS NULL) OR (outcome = 'refused' AND refusal_code IS NOT NULL)",
            name=op.f("ck_dataaccess_access_log_refusal_code"),
        ),
        sa.CheckConstraint("outcome in ('granted', 'refused')", name=op.f("ck_dataaccess_access_log_outcome")),
        sa.ForeignKeyConstraint(
            ["actor_token_id"], ["api_token.id"], name=op.f("fk_dataaccess_access_log_actor_token_id_api_token")
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user_account.id"], name=op.f("fk_dataaccess_access_log_actor_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["dataaccess_agreement.id"],
            name=op.f("fk_dataaccess_access_log_agreement_id_dataaccess_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["audit_seq"], ["audit_event.seq"], name=op.f("fk_dataaccess_access_log_audit_seq_audit_event")
        ),
        sa.ForeignKeyConstraint(
            ["consumer_department_id"],
            ["department.id"],
            name=op.f("fk_dataaccess_access_log_consumer_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataaccess_dataset.id"],
            name=op.f("fk_dataaccess_access_log_dataset_id_dataaccess_dataset"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_department_id"],
            ["department.id"],
            name=op.f("fk_dataaccess_access_log_owner_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_user_id"], ["user_account.id"], name=op.f("fk_dataaccess_access_log_subject_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataaccess_access_log")),
        sa.UniqueConstraint("audit_seq", name=op.f("uq_dataaccess_access_log_audit_seq")),
    )
    with op.batch_alter_table("dataaccess_access_log", schema=None) as batch_op:
        batch_op.create_index("ix_dataaccess_access_log_client", ["actor_token_id", "occurred_at"], unique=False)
        batch_op.create_index(
            "ix_dataaccess_access_log_consumer", ["consumer_department_id", "occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dataaccess_access_log_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index("ix_dataaccess_access_log_official", ["actor_user_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_dataaccess_access_log_subject", ["subject_user_id", "occurred_at"], unique=False)


def downgrade():
    with op.batch_alter_table("dataaccess_access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_dataaccess_access_log_subject")
        batch_op.drop_index("ix_dataaccess_access_log_official")
        batch_op.drop_index(batch_op.f("ix_dataaccess_access_log_occurred_at"))
        batch_op.drop_index("ix_dataaccess_access_log_consumer")
        batch_op.drop_index("ix_dataaccess_access_log_client")

    op.drop_table("dataaccess_access_log")
    with op.batch_alter_table("dataaccess_record", schema=None) as batch_op:
        batch_op.drop_index("ix_dataaccess_record_user")
        batch_op.drop_index("ix_dataaccess_record_reference")

    op.drop_table("dataaccess_record")
    op.drop_table("dataaccess_field")
    op.drop_table("dataaccess_client")
    with op.batch_alter_table("dataaccess_citizen_request", schema=None) as batch_op:
        batch_op.drop_index("ix_dataaccess_citizen_request_lookup")

    op.drop_table("dataaccess_citizen_request")
    with op.batch_alter_table("dataaccess_agreement", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_dataaccess_agreement_open",
            postgresql_where=sa.text("state IN ('draft', 'submitted')"),
            sqlite_where=sa.text("state IN ('draft', 'submitted')"),
        )
        batch_op.drop_index(
            "uq_dataaccess_agreement_in_force",
            postgresql_where=sa.text("state = 'approved'"),
            sqlite_where=sa.text("state = 'approved'"),
        )
        batch_op.drop_index(batch_op.f("ix_dataaccess_agreement_state"))
        batch_op.drop_index(batch_op.f("ix_dataaccess_agreement_reference"))
        batch_op.drop_index(batch_op.f("ix_dataaccess_agreement_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_dataaccess_agreement_consumer_department_id"))

    op.drop_table("dataaccess_agreement")
    with op.batch_alter_table("dataaccess_dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataaccess_dataset_department_id"))

    op.drop_table("dataaccess_dataset")
    op.drop_table("dataaccess_purpose")
    op.drop_table("dataaccess_legal_basis")
