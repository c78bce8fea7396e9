"""Drift (Model Monitor execution, alarm on a Model Monitor metric, our own drift check) →
the model's drift policy → retrain with the reason, alert only, or ignore."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.drift.decisions import on_drift, parse_drift_event
from aiops.observability import lambda_entry, logger, metrics
from aiops.settings.drift import DriftSettings

STACK = Stack(DriftSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    drift = parse_drift_event(event)
    decision = on_drift(drift, STACK.policy.load(), STACK.drift, now(), context.aws_request_id)
    logger.info("drift", extra=decision.model_dump())
    metrics.add_metric(name=f"Drift_{decision.action}", unit="Count", value=1)
    return decision.model_dump()
