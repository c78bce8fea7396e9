"""A cost anomaly (`aws.ce`) or a spend alarm's state change → the models it belongs to → their
budget actions (or, a spend alarm back to OK, resume by policy)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.cost.remediation import on_alarm, on_anomaly
from aiops.events import parse_event
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.cost import AnomalyDetected
from aiops.observability import lambda_entry, logger, metrics
from aiops.settings.cost import CostSettings

STACK = Stack(CostSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("source") == "aws.ce":
        decision = on_anomaly(
            parse_event(AnomalyDetected, event),
            STACK.policy.load(),
            STACK.cost,
            now(),
        )
    else:
        decision = on_alarm(
            parse_event(AlarmStateChange, event),
            STACK.policy.load(),
            STACK.cost,
            now(),
        )
    logger.info("cost signal", extra=decision.model_dump())
    metrics.add_metric(name=f"Cost_{decision.action}", unit="Count", value=1)
    for outcome in decision.outcomes:
        metrics.add_metric(
            name=f"CostAction_{outcome.action}_{outcome.outcome}", unit="Count", value=1
        )
    return decision.model_dump()
