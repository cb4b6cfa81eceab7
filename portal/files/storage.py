"""Where the bytes live: a folder on this machine, or an S3-compatible object store (MinIO in production).

Both backends speak the same four verbs, and both only ever see keys this module made (`new_storage_key`):
nothing a user typed becomes part of a path or an object name.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from flask import Flask, current_app

CHUNK = 64 * 1024
EXTENSION_KEY = "stadtportal_file_storage"
# Two fan-out levels keep folders small on a local disk and spread keys in S3; the rest is 160 random bits.
STORAGE_KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{40}$")


def new_storage_key() -> str:
    token = secrets.token_hex(20)
    return f"{token[:2]}/{token[2:4]}/{token}"


def _checked(key: str) -> str:
    # Defence in depth: the database only holds keys we made, but a path must never be steered from outside.
    if not STORAGE_KEY_RE.fullmatch(key):
        raise ValueError("not a storage key")
    return key


class StorageError(Exception):
    """The backend could not do what was asked (disk full, object store unreachable, ...)."""


class Storage(Protocol):
    name: str

    def put(self, key: str, data: IO[bytes], content_type: str) -> None:
        """Store `data` (read to its end) under `key`, replacing nothing: keys are fresh."""

    def open(self, key: str) -> IO[bytes]:
        """A binary stream of the object; the caller closes it. FileNotFoundError if it is gone."""

    def delete(self, key: str) -> None:
        """Remove the object; no error if it is already gone."""

    def exists(self, key: str) -> bool: ...

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Every object this backend holds, with when it was written (for `flask files check`)."""


class LocalStorage:
    """Files under one folder (FILE_STORAGE_PATH, default instance/files), created on first use, owner-only."""

    name = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, data: IO[bytes], content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Write beside the target and rename: a reader never sees half a file, a crash leaves no stub under the key.
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := data.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def listing(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*/*")):
            key = path.relative_to(self.root).as_posix()
            if STORAGE_KEY_RE.fullmatch(key):
                yield key, datetime.fromtimestamp(path.stat().st_mtime, UTC)


class S3Storage:
    """An S3-compatible bucket via boto3; S3_ENDPOINT_URL points it at MinIO (or any other S3 clone)."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        # Empty credentials mean "use boto3's usual chain" (environment, instance role), not "sign with ''".
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
            config=BotoConfig(
                # MinIO and most S3 clones want path-style addresses (http://host/bucket/key).
                s3={"addressing_style": "path"},
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def put(self, key: str, data: IO[bytes], content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_fileobj(data, self.bucket, _checked(key), ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError) as error:
            raise StorageError(str(error)) from error

    def open(self, key: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=_checked(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(key) from error
            raise StorageError(str(error)) from error
        body: IO[bytes] = response["Body"]
        return body

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=_checked(key))
        except (BotoCoreError, ClientError) as error:
            raise StorageError(str(error)) from error

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=_checked(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return False
            raise StorageError(str(error)) from error
        return True

    def listing(self) -> Iterator[tuple[str, datetime]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                if STORAGE_KEY_RE.fullmatch(item["Key"]):
                    yield item["Key"], item["LastModified"]


def storage_from_config(config: dict[str, Any]) -> Storage:
    kind = config.get("FILE_STORAGE", "local")
    if kind == "local":
        return LocalStorage(config["FILE_STORAGE_PATH"])
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("FILE_STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for MinIO).")
        return S3Storage(
            config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            region=config.get("S3_REGION"),
        )
    raise RuntimeError(f"FILE_STORAGE must be 'local' or 's3', not {kind!r}")


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = storage_from_config(app.config)


def get_storage(app: Flask | None = None) -> Storage:
    """The app's storage backend (made once per app by portal.files.init_app)."""
    target = app or current_app
    storage: Storage = target.extensions[EXTENSION_KEY]
    return storage
