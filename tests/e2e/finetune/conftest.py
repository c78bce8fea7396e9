"""Shared setup for the fine-tune e2e tests: an offline cloud on the support assistant's
fine-tune policy, driven through the real entry points (labelers' uploads, the event bus), and
helpers to read what it did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiops.base_models import RecordFormat
from aiops_local import LocalCloud
from aiops_local.labels_data import labeled_records

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "scenarios" / "policies" / "support_assistant_finetune.yaml"
MODEL = "support-assistant"


@contextmanager
def finetune_cloud(policy: Path = POLICY, **simulators: dict[str, Any]) -> Iterator[LocalCloud]:
    with LocalCloud(
        template=ROOT / "template.yaml", policy=policy, start=None, simulators=simulators
    ) as cloud:
        yield cloud


def upload_labels(
    cloud: LocalCloud, name: str, records: int, bad_share: float = 0.0, seed: int = 1
) -> dict[str, Any]:
    """A labeler's upload; returns the S3 `Object Created` event it caused."""
    body = labeled_records(RecordFormat.CONVERSATION, records, bad_share=bad_share, seed=seed)
    cloud.put_object(cloud.bucket("LabeledDataBucket"), f"labeled/support/{name}.jsonl", body=body)
    cloud.run_until_quiet()
    return created_event(cloud, f"labeled/support/{name}.jsonl")


def created_event(cloud: LocalCloud, key: str) -> dict[str, Any]:
    for entry in reversed(cloud.timeline.entries()):
        event = entry.get("event") or {}
        if entry["kind"] == "event" and event.get("detail", {}).get("object", {}).get("key") == key:
            return dict(event)
    raise LookupError(key)


def actions(cloud: LocalCloud) -> list[str]:
    return [e["action"] for e in cloud.ledger(MODEL)]


def entries(cloud: LocalCloud, action: str) -> list[dict[str, Any]]:
    return [e for e in cloud.ledger(MODEL) if e["action"] == action]


def notices(cloud: LocalCloud, topic: str) -> list[dict[str, Any]]:
    return [
        e for e in cloud.timeline.entries() if e["kind"] == "notify" and topic in e.get("topic", "")
    ]


def finetune_executions(cloud: LocalCloud) -> list[Any]:
    return cloud.executions("FineTuneStateMachine")
