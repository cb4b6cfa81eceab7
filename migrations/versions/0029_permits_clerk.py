"""permits, the clerk's side: the formal check's note and outcome, the decision (conditions, validity, reasons),
the fee notice's payment order, extensions linked to the permit they extend, and the decision documents (PDF)

Revision ID: 0029
Revises: 0028
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("permit_application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_note", sa.String(length=1000), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("conditions", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("decision_reasons", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("payment_public_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("kassenzeichen", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("extends_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_permit_application_extends_id_permit_application"),
            "permit_application",
            ["extends_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_permit_application_validity"),
            "valid_from is null or valid_until is null or valid_until >= valid_from",
        )
        batch_op.create_index(batch_op.f("ix_permit_application_extends_id"), ["extends_id"], unique=False)

    op.create_table(
        "permit_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('permit', 'refusal', 'fee_notice')", name=op.f("ck_permit_document_kind")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["permit_application.id"],
            name=op.f("fk_permit_document_application_id_permit_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_document")),
        sa.UniqueConstraint("application_id", "kind", name="uq_permit_document_kind"),
    )


def downgrade():
    op.drop_table("permit_document")
    with op.batch_alter_table("permit_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_application_extends_id"))
        batch_op.drop_constraint(op.f("ck_permit_application_validity"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_permit_application_extends_id_permit_application"), type_="foreignkey")
        for column in (
            "extends_id",
            "kassenzeichen",
            "payment_public_id",
            "valid_until",
            "valid_from",
            "decision_reasons",
            "conditions",
            "accepted_at",
            "request_note",
        ):
            batch_op.drop_column(column)
