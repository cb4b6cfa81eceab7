"""The S3 backend against a real S3-compatible server on loopback (moto's server, as MinIO would be in production)."""

from __future__ import annotations

import boto3
import pytest

from portal.files import UploadPolicy, erase_files_of_user, store_upload
from portal.files.services import check_storage
from portal.files.storage import S3Storage, get_storage
from tests.portal.files import samples
from tests.portal.files.conftest import actor

POLICY = UploadPolicy()


@pytest.fixture
def app_config(app_config: dict, s3_server: str, s3_bucket: str) -> dict:
    return {
        **app_config,
        "FILE_STORAGE": "s3",
        "S3_ENDPOINT_URL": s3_server,
        "S3_BUCKET": s3_bucket,
        "S3_ACCESS_KEY_ID": "test-key",
        "S3_SECRET_ACCESS_KEY": "test-secret",
        "S3_REGION": "eu-central-1",
    }


@pytest.fixture
def bucket(s3_server: str, s3_bucket: str):
    resource = boto3.resource(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="eu-central-1",
    )
    return resource.Bucket(s3_bucket)


def test_uploads_land_in_the_bucket_under_a_random_key_with_the_sniffed_type(app, anna, bucket, files_dir):
    assert isinstance(get_storage(), S3Storage)
    data = samples.jpeg(300, 200)

    stored = store_upload(actor(anna), samples.upload(data, "Anna Foto.jpg", "application/pdf"), POLICY, purpose="t.a")

    [obj] = list(bucket.objects.all())
    assert obj.key == stored.storage_key and "Anna" not in obj.key
    head = obj.get()
    assert head["ContentType"] == "image/jpeg"
    assert head["Body"].read() == data
    assert not files_dir.exists()  # nothing went to the local folder


def test_download_streams_from_the_bucket(app, client, auth, anna):
    data = samples.pdf(3)
    stored = store_upload(actor(anna), samples.upload(data, "Plan.pdf"), POLICY, purpose="t.a")
    auth.login("anna@example.org")

    response = client.get(f"/dateien/{stored.key}")

    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_erasure_removes_the_objects_from_the_bucket(app, anna, bucket):
    for name in ("a.pdf", "b.png"):
        data = samples.pdf() if name.endswith("pdf") else samples.png()
        store_upload(actor(anna), samples.upload(data, name), POLICY, purpose="t.a")
    assert len(list(bucket.objects.all())) == 2

    assert erase_files_of_user(actor(anna), anna.id) == 2

    assert list(bucket.objects.all()) == []


def test_check_finds_an_object_that_vanished_from_the_bucket(app, anna, bucket):
    stored = store_upload(actor(anna), samples.upload(samples.pdf(), "a.pdf"), POLICY, purpose="t.a")
    assert check_storage().ok

    bucket.Object(stored.storage_key).delete()

    assert check_storage().missing == [stored.id]


def test_s3_needs_a_bucket(app):
    from portal.files.storage import storage_from_config

    with pytest.raises(RuntimeError, match="S3_BUCKET"):
        storage_from_config({"FILE_STORAGE": "s3", "S3_BUCKET": ""})
    with pytest.raises(RuntimeError, match="local' or 's3"):
        storage_from_config({"FILE_STORAGE": "ftp"})
