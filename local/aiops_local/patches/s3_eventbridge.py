"""S3 writes to a bucket with EventBridge notifications become the events S3 really sends.

moto's `_send_event_bridge_message` builds a near miss (numeric `time`, `eTag`, `reason`
"ObjectCreated", a constant sequencer) and delivers it to rules itself. We replace it to queue the
documented shape ("Amazon S3 event notifications with EventBridge") on the runtime's bus.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from moto.s3 import notifications

from aiops_local.bus import EventQueue
from aiops_local.patches.base import Patcher

# S3 event name → (detail-type, reason) for the events the control plane can receive.
_SHAPES = {
    "s3:ObjectCreated:Put": ("Object Created", "PutObject"),
    "s3:ObjectCreated:Post": ("Object Created", "POST Object"),
    "s3:ObjectCreated:Copy": ("Object Created", "CopyObject"),
    "s3:ObjectCreated:CompleteMultipartUpload": ("Object Created", "CompleteMultipartUpload"),
    "s3:ObjectRemoved:Delete": ("Object Deleted", "DeleteObject"),
    "s3:ObjectRemoved:DeleteMarkerCreated": ("Object Deleted", "DeleteObject"),
}


def object_event_detail(
    bucket: Any, key: Any, event_name: str, account: str, sequence: int
) -> tuple[str, dict[str, Any]]:
    detail_type, reason = _SHAPES[event_name]
    obj: dict[str, Any] = {"key": key.name}
    if detail_type == "Object Created":
        obj["size"] = key.size
        obj["etag"] = key.etag.replace('"', "")
    version_id = getattr(key, "version_id", None)
    if version_id and version_id != "null":
        obj["version-id"] = version_id
    # S3 sequencers are hex strings that grow with each write to a key.
    obj["sequencer"] = f"{sequence:018X}"
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": uuid.uuid4().hex[:16].upper(),
        "requester": account,
        "source-ip-address": "127.0.0.1",
        "reason": reason,
    }
    if detail_type == "Object Deleted":
        detail["deletion-type"] = (
            "Delete Marker Created"
            if event_name.endswith("DeleteMarkerCreated")
            else "Permanently Deleted"
        )
    return detail_type, detail


def install(patcher: Patcher, queue: EventQueue) -> None:
    sequence = itertools.count(1)

    def _send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        name = str(getattr(event_name, "value", event_name))
        if name not in _SHAPES:
            return  # tagging, ACL, restore...: nothing the control plane listens to
        detail_type, detail = object_event_detail(bucket, key, name, account_id, next(sequence))
        queue.put(
            {
                "source": "aws.s3",
                "detail-type": detail_type,
                "account": account_id,
                "region": bucket.region_name,
                "resources": [f"arn:aws:s3:::{bucket.name}"],
                "detail": detail,
            }
        )

    patcher.replace(notifications, "_send_event_bridge_message", _send_event_bridge_message)
