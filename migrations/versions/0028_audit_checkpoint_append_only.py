"""audit_checkpoint is append-only too: triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL)

Without them, whoever could rewrite audit_event past its own triggers could also delete the signed checkpoints
that would have caught the rewrite. (The witness outside the database, portal.audit.witness, catches even a
superuser who switches the triggers off; these make it take a superuser.)

Later migrations must not use batch_alter_table on audit_checkpoint: on SQLite it rebuilds the table and drops
these triggers.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_checkpoint_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'audit_checkpoint is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoint "
            "FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_refuse_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint "
            "BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint "
            "BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only: DELETE refused'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_checkpoint_no_truncate ON audit_checkpoint")
        op.execute("DROP TRIGGER audit_checkpoint_no_update_delete ON audit_checkpoint")
        op.execute("DROP FUNCTION audit_checkpoint_refuse_change()")
    else:
        op.execute("DROP TRIGGER audit_checkpoint_no_update")
        op.execute("DROP TRIGGER audit_checkpoint_no_delete")
