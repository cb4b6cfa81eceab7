"""participation surveys and draft texts commented paragraph by paragraph

Revision ID: 0021
Revises: 0020
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participation_survey_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("scale_min", sa.Integer(), nullable=True),
        sa.Column("scale_max", sa.Integer(), nullable=True),
        sa.Column("min_label", sa.String(length=60), nullable=True),
        sa.Column("max_label", sa.String(length=60), nullable=True),
        sa.CheckConstraint(
            "kind in ('single', 'multiple', 'text', 'scale')", name=op.f("ck_participation_survey_question_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'scale') = (scale_min IS NOT NULL AND scale_max IS NOT NULL)",
            name=op.f("ck_participation_survey_question_scale"),
        ),
        sa.CheckConstraint(
            "scale_min IS NULL OR (scale_min >= 0 AND scale_max > scale_min AND scale_max - scale_min < 11)",
            name=op.f("ck_participation_survey_question_scale_range"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_survey_question_consultation_id_participation_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_survey_question")),
    )
    with op.batch_alter_table("participation_survey_question", schema=None) as batch_op:
        batch_op.create_index("ix_participation_survey_question_order", ["consultation_id", "position"], unique=False)

    op.create_table(
        "participation_survey_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["participation_survey_question.id"],
            name=op.f("fk_participation_survey_option_question_id_participation_survey_question"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_survey_option")),
    )
    with op.batch_alter_table("participation_survey_option", schema=None) as batch_op:
        batch_op.create_index("ix_participation_survey_option_order", ["question_id", "position"], unique=False)

    op.create_table(
        "participation_survey_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_survey_response_consultation_id_participation_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_participation_survey_response_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_survey_response")),
        sa.UniqueConstraint("consultation_id", "user_id", name="uq_participation_survey_response_once"),
    )
    with op.batch_alter_table("participation_survey_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participation_survey_response_user_id"), ["user_id"], unique=False)

    op.create_table(
        "participation_survey_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(option_id IS NOT NULL AND value IS NULL AND text IS NULL)"
            " OR (option_id IS NULL AND value IS NOT NULL AND text IS NULL)"
            " OR (option_id IS NULL AND value IS NULL AND text IS NOT NULL)",
            name=op.f("ck_participation_survey_answer_one_answer"),
        ),
        sa.CheckConstraint(
            "text IS NULL OR length(text) <= 2000", name=op.f("ck_participation_survey_answer_text_length")
        ),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["participation_survey_option.id"],
            name=op.f("fk_participation_survey_answer_option_id_participation_survey_option"),
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["participation_survey_question.id"],
            name=op.f("fk_participation_survey_answer_question_id_participation_survey_question"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["participation_survey_response.id"],
            name=op.f("fk_participation_survey_answer_response_id_participation_survey_response"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_survey_answer")),
        sa.UniqueConstraint("response_id", "question_id", "option_id", name="uq_participation_survey_answer_once"),
    )
    with op.batch_alter_table("participation_survey_answer", schema=None) as batch_op:
        batch_op.create_index("ix_participation_survey_answer_question", ["question_id", "id"], unique=False)

    op.create_table(
        "participation_draft_paragraph",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("heading", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(text) <= 10000", name=op.f("ck_participation_draft_paragraph_text_length")),
        sa.CheckConstraint("comment_count >= 0", name=op.f("ck_participation_draft_paragraph_counters")),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["participation_consultation.id"],
            name=op.f("fk_participation_draft_paragraph_consultation_id_participation_consultation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_draft_paragraph")),
    )
    with op.batch_alter_table("participation_draft_paragraph", schema=None) as batch_op:
        batch_op.create_index("ix_participation_draft_paragraph_order", ["consultation_id", "position"], unique=False)

    # Wave 1 left the comment's paragraph as a free String(64) and never wrote it (a comment took its parent's,
    # always NULL), so it becomes a real reference to a paragraph: the cast finds no value to convert. SQLite
    # rebuilds the table (batch mode copies the rows, the named CHECKs, the foreign keys and the indexes).
    with op.batch_alter_table("participation_comment", schema=None) as batch_op:
        batch_op.alter_column(
            "paragraph_id",
            existing_type=sa.String(length=64),
            type_=sa.Integer(),
            existing_nullable=True,
            postgresql_using="paragraph_id::integer",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_participation_comment_paragraph_id_participation_draft_paragraph"),
            "participation_draft_paragraph",
            ["paragraph_id"],
            ["id"],
        )
        batch_op.create_index("ix_participation_comment_paragraph", ["paragraph_id", "parent_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("participation_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_comment_paragraph")
        batch_op.drop_constraint(
            batch_op.f("fk_participation_comment_paragraph_id_participation_draft_paragraph"), type_="foreignkey"
        )
        batch_op.alter_column(
            "paragraph_id",
            existing_type=sa.Integer(),
            type_=sa.String(length=64),
            existing_nullable=True,
            postgresql_using="paragraph_id::varchar",
        )

    with op.batch_alter_table("participation_draft_paragraph", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_draft_paragraph_order")
    op.drop_table("participation_draft_paragraph")

    with op.batch_alter_table("participation_survey_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_survey_answer_question")
    op.drop_table("participation_survey_answer")

    with op.batch_alter_table("participation_survey_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_survey_response_user_id"))
    op.drop_table("participation_survey_response")

    with op.batch_alter_table("participation_survey_option", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_survey_option_order")
    op.drop_table("participation_survey_option")

    with op.batch_alter_table("participation_survey_question", schema=None) as batch_op:
        batch_op.drop_index("ix_participation_survey_question_order")
    op.drop_table("participation_survey_question")
