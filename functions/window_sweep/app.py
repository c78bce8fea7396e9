"""Scheduled: close data windows that aged past the policy's max age; restart stranded runs."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.observability import lambda_entry, metrics
from aiops.retrain.new_data import sweep_windows
from aiops.settings.retrain import NewDataSettings

STACK = Stack(NewDataSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = sweep_windows(STACK.policy.load(), STACK.new_data, now(), owner=context.aws_request_id)
    metrics.add_metric(name="AgedWindowsClosed", unit="Count", value=len(result.started))
    # A sweep that started runs says so (the offline story shows only ticks that did something).
    said = {"action": "runs_started", "reason": _started(result)} if result.started else {}
    return {**result.model_dump(), **said}


def _started(result: Any) -> str:
    return "; ".join(f"{d.model}: {d.reason}" for d in result.started)
