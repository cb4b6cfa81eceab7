"""Records of the portal's own store live only as long as their dataset's retention period says."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from dataaccess.models import DatasetRecord
from dataaccess.services.records import purge_expired_records
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from tests.dataaccess.builders import World


def test_records_past_the_retention_period_are_deleted_and_the_deletion_is_audited(world: World, app):
    records = list(db.session.scalars(sa.select(DatasetRecord).where(DatasetRecord.dataset_id == world.permits.id)))
    assert records, "the world has records"
    old, fresh = records[0], records[1:]
    old.updated_at = utcnow() - timedelta(days=world.permits.retention_days + 1)
    db.session.commit()

    assert purge_expired_records() == {world.permits.key: 1}

    db.session.expire_all()
    left = set(db.session.scalars(sa.select(DatasetRecord.id).where(DatasetRecord.dataset_id == world.permits.id)))
    assert left == {r.id for r in fresh}
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "dataaccess.records_purged"))
    assert event.actor_type == "system" and json.loads(event.details)["count"] == 1
    assert purge_expired_records() == {}  # nothing left to purge, and no empty event


def test_the_job_is_declared_to_run_daily(app):
    from portal.jobs import declared_jobs

    job = declared_jobs(app)["dataaccess.purge_records"]
    assert job.every == timedelta(days=1)
