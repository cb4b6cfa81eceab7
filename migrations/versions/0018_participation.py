"""participation: consultations and their phases, pseudonyms, proposals, supports, threaded comments

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participation_consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("premoderation", sa.Boolean(), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("area_geojson", sa.Text(), nullable=True),
        sa.Column("support_threshold", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("proposal_count", sa.Integer(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("support_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "audience in ('signed_in', 'verified', 'guests')", name=op.f("ck_participation_consultation_audience")
        ),
        sa.CheckConstraint(
            "state = 'draft' OR published_at IS NOT NULL", name=op.f("ck_participation_consultation_published")
        ),
        sa.CheckConstraint(
            "state NOT IN ('closed', 'archived') OR closed_at IS NOT NULL",
            name=op.f("ck_participation_consultation_closed"),
        ),
        sa.CheckConstraint(
            "state in ('draft', 'published', 'closed', 'archived')", name=op.f("ck_participation_consultation_state")
        ),
        sa.CheckConstraint(
            "proposal_count >= 0 AND comment_count >= 0 AND support_count >= 0",
            name=op.f("ck_participation_consultation_counters"),
        ),
        sa.CheckConstraint(
            "support_threshold is null or support_threshold > 0", name=op.f("ck_participation_consultation_threshold")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_participation_consultation_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_participation_consultation_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_consultation")),
        sa.UniqueConstraint("slug", name=op.f("uq_participation_consultation_slug")),
    )
    with op.batch_alter_table("participation_consultation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participation_consultation_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_participation_consultation_state"), ["state"], unique=False)

    op.create_table(
        "participation_pseudonym",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_key", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_participation_pseudonym_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_pseudonym")),
        sa.UniqueConstraint("name_key", name=op.f("uq_participation_pseudonym_name_key")),
        sa.UniqueConstraint("user_id", name=op.f("uq_participation_pseudonym_user_id")),
    )
    op.create_table(
        "participation_phase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind in ('information', 'proposals', 'comments', 'draft', 'survey', 'voting', 'results')",
            name=op.f("ck_participation_phase_kind"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_participation_phase_period")),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_phase_consultation_id_participation_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_phase")),
    )
    with op.batch_alter_table("participation_phase", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_phase_consultation_id"), ["consultation_id"], unique=False)

    op.create_table(
        "participation_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("image_key", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("support_count", sa.Integer(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("answer_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state in ('published', 'pending', 'hidden')", name=op.f("ck_participation_proposal_state")),
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name=op.f("ck_participation_proposal_point")),
        sa.CheckConstraint(
            "lat IS NULL OR (lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180)",
            name=op.f("ck_participation_proposal_range"),
        ),
        sa.CheckConstraint("length(body) <= 5000", name=op.f("ck_participation_proposal_body_length")),
        sa.CheckConstraint(
            "support_count >= 0 AND comment_count >= 0", name=op.f("ck_participation_proposal_counters")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_participation_proposal_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_proposal_consultation_id_participation_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["image_key"], ["stored_file.key"], name=op.f("fk_participation_proposal_image_key_stored_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_proposal")),
        sa.UniqueConstraint("reference", name=op.f("uq_participation_proposal_reference")),
    )
    with op.batch_alter_table("participation_proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_proposal_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_participation_proposal_newest", ["consultation_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_participation_proposal_supported", ["consultation_id", "support_count", "id"], unique=False
        )

    op.create_table(
        "participation_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("paragraph_id", sa.String(length=64), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("root_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("guest_name", sa.String(length=60), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("stance", sa.String(length=8), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "stance is null or stance in ('pro', 'neutral', 'contra')", name=op.f("ck_participation_comment_stance")
        ),
        sa.CheckConstraint("state in ('published', 'pending', 'hidden')", name=op.f("ck_participation_comment_state")),
        sa.CheckConstraint(
            "(depth = 0 AND parent_id IS NULL AND root_id IS NULL) OR (depth > 0 AND parent_id IS NOT NULL AND root_id IS NOT NULL)",
            name=op.f("ck_participation_comment_thread"),
        ),
        sa.CheckConstraint("depth >= 0 AND depth <= 2", name=op.f("ck_participation_comment_depth")),
        sa.CheckConstraint("length(body) <= 4000", name=op.f("ck_participation_comment_body_length")),
        sa.CheckConstraint("reply_count >= 0", name=op.f("ck_participation_comment_counters")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_participation_comment_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_comment_consultation_id_participation_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["participation_comment.id"],
            name=op.f("fk_participation_comment_parent_id_participation_comment"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["participation_proposal.id"],
            name=op.f("fk_participation_comment_proposal_id_participation_proposal"),
        ),
        sa.ForeignKeyConstraint(
            ["root_id"],
            ["participation_comment.id"],
            name=op.f("fk_participation_comment_root_id_participation_comment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_comment")),
    )
    with op.batch_alter_table("participation_comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_comment_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            "ix_participation_comment_consultation", ["consultation_id", "proposal_id", "parent_id", "id"], unique=False
        )
        batch_op.create_index("ix_participation_comment_parent", ["parent_id", "id"], unique=False)
        batch_op.create_index("ix_participation_comment_thread", ["proposal_id", "parent_id", "id"], unique=False)

    op.create_table(
        "participation_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["participation_proposal.id"],
            name=op.f("fk_participation_support_proposal_id_participation_proposal"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_participation_support_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_support")),
        sa.UniqueConstraint("proposal_id", "user_id", name="uq_participation_support_once"),
    )
    with op.batch_alter_table("participation_support", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_support_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("participation_support", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_support_user_id"))
    op.drop_table("participation_support")

    with op.batch_alter_table("participation_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_comment_thread")
        batch_op.drop_index("ix_participation_comment_parent")
        batch_op.drop_index("ix_participation_comment_consultation")
        batch_op.drop_index(batch_op.f("ix_participation_comment_author_id"))
    op.drop_table("participation_comment")

    with op.batch_alter_table("participation_proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_proposal_supported")
        batch_op.drop_index("ix_participation_proposal_newest")
        batch_op.drop_index(batch_op.f("ix_participation_proposal_author_id"))
    op.drop_table("participation_proposal")

    with op.batch_alter_table("participation_phase", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_phase_consultation_id"))
    op.drop_table("participation_phase")

    op.drop_table("participation_pseudonym")

    with op.batch_alter_table("participation_consultation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_consultation_state"))
        batch_op.drop_index(batch_op.f("ix_participation_consultation_department_id"))
    op.drop_table("participation_consultation")
