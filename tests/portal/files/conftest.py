"""Fixtures of the files tests: a storage folder per test, people to own files, and a real local S3 server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.builders import make_user


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def app_config(app_config: dict, files_dir: Path) -> dict:
    return {**app_config, "FILE_STORAGE": "local", "FILE_STORAGE_PATH": str(files_dir)}


@pytest.fixture
def anna(app):
    return make_user("anna@example.org", display_name="Anna")


@pytest.fixture
def ben(app):
    return make_user("ben@example.org", display_name="Ben")


def actor(user, on_behalf_of: str | None = None) -> Actor:
    return Actor.for_user(user, on_behalf_of=on_behalf_of)


def events(action: str, **where: object) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.action == action)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(db.session.scalars(query.order_by(AuditEvent.seq)))


def details(event: AuditEvent) -> dict:
    return json.loads(event.details)


def stored_objects(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3-compatible HTTP server on loopback (moto's), for the S3 backend; no boto3 mocking."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    import boto3

    name = f"stadtportal-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="eu-central-1",
    )
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    return name
