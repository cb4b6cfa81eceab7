"""dataaccess_rate_counter: the agreements' hourly limits counted per minute in one row per agreement and reader,
filled from the last hour of the access log

Revision ID: 0022
Revises: 0021
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    counter = op.create_table(
        "dataaccess_rate_counter",
        sa.Column("agreement_reference", sa.String(length=20), nullable=False),
        sa.Column("reader", sa.String(length=40), nullable=False),
        sa.Column("per_minute", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_reference", "reader", name=op.f("pk_dataaccess_rate_counter")),
    )
    # The accesses of the last hour keep counting against the limit across the upgrade (the access function
    # counted them from the log until now).
    log = sa.table(
        "dataaccess_access_log",
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("outcome", sa.String),
        sa.column("agreement_reference", sa.String),
        sa.column("actor_user_id", sa.Integer),
        sa.column("actor_token_id", sa.Integer),
    )
    since = datetime.now(UTC) - timedelta(minutes=61)
    rows = op.get_bind().execute(
        sa.select(log.c.agreement_reference, log.c.actor_user_id, log.c.actor_token_id, log.c.occurred_at).where(
            log.c.outcome == "granted", log.c.agreement_reference.is_not(None), log.c.occurred_at >= since
        )
    )
    counts: dict[tuple[str, str], Counter[str]] = {}
    for reference, user_id, token_id, occurred_at in rows:
        reader = f"token:{token_id}" if token_id is not None else f"user:{user_id}" if user_id is not None else None
        if reader is None or len(reference) > 20:
            continue
        if isinstance(occurred_at, str):  # SQLite without the model's type
            occurred_at = datetime.fromisoformat(occurred_at)
        if occurred_at.tzinfo is None:
            occurred_at = occurred_at.replace(tzinfo=UTC)
        minute = int(occurred_at.timestamp() // 60)
        counts.setdefault((reference, reader), Counter())[str(minute)] += 1
    if counts:
        op.bulk_insert(
            counter,
            [{"agreement_reference": r, "reader": who, "per_minute": dict(c)} for (r, who), c in counts.items()],
        )


def downgrade():
    op.drop_table("dataaccess_rate_counter")
