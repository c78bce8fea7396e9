"""Scheduled: fine-tune on the labeled records there are once the oldest reaches the policy's
`labels.max_age`; restart runs a crash left unstarted."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.finetune.labels import sweep_labels
from aiops.observability import lambda_entry, metrics
from aiops.settings.finetune import LabelsSettings

STACK = Stack(LabelsSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = sweep_labels(STACK.policy.load(), STACK.labels, now(), owner=context.aws_request_id)
    metrics.add_metric(name="AgedLabelWindowsClosed", unit="Count", value=len(result.started))
    # A sweep that started runs says so (the offline story shows only ticks that did something).
    said = {"action": "runs_started", "reason": _started(result)} if result.started else {}
    return {**result.model_dump(), **said}


def _started(result: Any) -> str:
    return "; ".join(f"{d.model}: {d.reason}" for d in result.started)
