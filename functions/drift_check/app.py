"""Scheduled: our own drift check for every model with a `drift.monitor` in the policy."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.drift.check import run_drift_checks
from aiops.observability import lambda_entry, logger, metrics
from aiops.settings.drift import DriftCheckSettings

STACK = Stack(DriftCheckSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    results = run_drift_checks(STACK.policy.load(), STACK.drift_check, now())
    for result in results:
        logger.info("drift check", extra=result.model_dump(exclude={"features"}))
        metrics.add_metric(name=f"DriftCheck_{result.outcome}", unit="Count", value=1)
    reported = [r for r in results if r.outcome == "reported"]
    said = (
        {"action": "reported", "reason": "; ".join(f"{r.model}: {r.reason}" for r in reported)}
        if reported
        else {}
    )
    return {"results": [r.model_dump(exclude={"features"}) for r in results], **said}
