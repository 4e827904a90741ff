"""Files in an S3-compatible bucket (AWS S3, MinIO, Ceph…), shared by every app and worker host.

Objects are written whole (an object appears only once its upload completes), so nobody sees
half a file. Cover files are read by browsers from `FUNDRAISING_MEDIA_URL`, a public-read view
of the bucket's `covers/` (or a CDN in front of it); uploads awaiting processing stay private.
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, BinaryIO

from botocore.exceptions import ClientError

from fundraising.adapters.files.keys import file_key, s3_location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound"}


def s3_client(
    *,
    endpoint_url: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> S3Client:
    """A client; unset credentials come from boto3's usual chain (AWS_* variables, a role)."""
    import boto3  # noqa: PLC0415 (a second of imports that only a bucket's user pays)
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # Path-style addressing works with every S3-compatible server (MinIO, moto).
            s3={"addressing_style": "path"},
        ),
    )


class S3FileStorage:
    def __init__(self, client: S3Client, url: str) -> None:
        self._client = client
        self._bucket, self._prefix = s3_location(url)

    def save(self, data: BinaryIO, *, folder: str, suffix: str, name: str | None = None) -> str:
        key = file_key(folder, suffix, name)
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        self._client.upload_fileobj(
            data, self._bucket, self._prefix + key, ExtraArgs={"ContentType": content_type}
        )
        return key

    def read(self, key: str) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._prefix + key)
        except ClientError as error:
            if _code(error) in _MISSING:
                raise FileNotFoundError(key) from None
            raise
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._prefix + key)

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=self._prefix + key)
        except ClientError as error:
            if _code(error) in _MISSING:
                return False
            raise
        return True

    def check(self) -> None:
        """Raise unless the bucket answers (readiness)."""
        self._client.head_bucket(Bucket=self._bucket)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
