"""S3's `Object Created` event (EventBridge notifications of a bucket)."""

from typing import Literal

from pydantic import Field

from aiops.events import (
    MAX_BUCKET_NAME,
    MIN_BUCKET_NAME,
    AwsShape,
    Envelope,
    Name,
    S3Key,
    S3Size,
    S3Token,
)


class S3Bucket(AwsShape):
    name: str = Field(min_length=MIN_BUCKET_NAME, max_length=MAX_BUCKET_NAME)


class S3Object(AwsShape):
    key: S3Key
    size: S3Size = 0
    etag: S3Token | None = None
    version_id: S3Token | None = Field(default=None, alias="version-id")
    sequencer: S3Token | None = None


class S3ObjectCreatedDetail(AwsShape):
    bucket: S3Bucket
    object: S3Object
    reason: Name | None = None


class S3ObjectCreated(Envelope):
    source: Literal["aws.s3"]
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    detail: S3ObjectCreatedDetail
