"""S3 reads and the run manifests written to the artifacts bucket."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from aiops.adapters.aws import AwsAdapter
from aiops.retrain import DataManifest


class S3Objects(AwsAdapter):
    service = "s3"

    def read_json(self, uri: str) -> Any:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"not an s3:// URI: {uri!r}")
        body = self.client.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"]
        return json.loads(body.read())

    def write_json(self, bucket: str, key: str, document: Any) -> str:
        self.client.put_object(
            Bucket=bucket,
            Key=key,
            ContentType="application/json",
            Body=json.dumps(document, indent=2, default=str).encode(),
        )
        return f"s3://{bucket}/{key}"


class S3ManifestWriter:
    def __init__(self, bucket: str, objects: S3Objects | None = None) -> None:
        self.bucket = bucket
        self.objects = objects or S3Objects()

    def write(self, manifest: DataManifest) -> str:
        key = f"manifests/{manifest.model}/{manifest.run_id}.json"
        return self.objects.write_json(self.bucket, key, manifest.model_dump(mode="json"))
