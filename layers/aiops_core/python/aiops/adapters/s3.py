"""S3 reads and the run manifests written to the artifacts bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.runs.manifest import DataManifest
from aiops.runs.window import ObjectRef
from aiops.storage import ObjectUnreadable

# A document (report, manifest, evaluation) larger than this is not one we or SageMaker wrote.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def split_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


class S3Objects(AwsAdapter):
    service = "s3"

    def read_json(self, uri: str) -> Any:
        text = self.read(uri)
        if text is None:
            raise ObjectUnreadable(uri, "no such object")
        return json.loads(text)

    def read(self, uri: str) -> str | None:
        """The object's text, or None when it does not exist."""
        found = self.read_with_metadata(uri)
        return found[0] if found is not None else None

    def read_with_metadata(self, uri: str) -> tuple[str, dict[str, str]] | None:
        """The object's text and S3 user metadata (one GET: both of the same version), or None
        when it does not exist."""
        bucket, key = split_uri(uri)
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
        except Exception as exc:
            code = error_code(exc)
            if code in ("NoSuchKey", "404"):
                return None
            if code in ("AccessDenied", "NoSuchBucket", "403"):
                # e.g. a report written outside the buckets this function may read.
                raise ObjectUnreadable(uri, f"cannot be read ({code})") from exc
            raise
        if int(response.get("ContentLength", 0)) > MAX_DOCUMENT_BYTES:
            response["Body"].close()
            raise ObjectUnreadable(uri, f"larger than {MAX_DOCUMENT_BYTES} bytes")
        text = str(response["Body"].read().decode("utf-8", errors="replace"))
        metadata = {str(k).lower(): str(v) for k, v in (response.get("Metadata") or {}).items()}
        return text, metadata

    def lines(self, obj: ObjectRef) -> Iterator[bytes]:
        """Stream the object version line by line (bounded memory, whatever its size)."""
        args: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.version_id:
            args["VersionId"] = obj.version_id
        body = self.client.get_object(**args)["Body"]
        try:
            yield from body.iter_lines()
        finally:
            body.close()

    def under(self, uri_prefix: str) -> list[ObjectRef]:
        bucket, prefix = split_uri(uri_prefix)
        found: list[ObjectRef] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                if item["Key"].endswith("/") or not item.get("Size"):
                    continue
                found.append(
                    ObjectRef(
                        bucket=bucket,
                        key=item["Key"],
                        etag=str(item.get("ETag", "")).strip('"') or None,
                        size=int(item["Size"]),
                    )
                )
        return found

    def write_json(
        self, bucket: str, key: str, document: Any, metadata: dict[str, str] | None = None
    ) -> str:
        """Write `document` as JSON, with `metadata` as the object's S3 user metadata."""
        args: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "ContentType": "application/json",
            "Body": json.dumps(document, indent=2, default=str).encode(),
        }
        if metadata:
            args["Metadata"] = metadata
        self.client.put_object(**args)
        return f"s3://{bucket}/{key}"


class S3ManifestWriter:
    def __init__(self, bucket: str, objects: S3Objects | None = None) -> None:
        self.bucket = bucket
        self.objects = objects or S3Objects()

    def write(self, manifest: DataManifest) -> str:
        key = f"manifests/{manifest.model}/{manifest.run_id}.json"
        return self.objects.write_json(self.bucket, key, manifest.model_dump(mode="json"))
