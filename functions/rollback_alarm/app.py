"""A rollback alarm to ALARM after a deployment → the endpoint back to its last known good."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.rollback import on_rollback_alarm
from aiops.events import parse_event
from aiops.events.cloudwatch import AlarmStateChange
from aiops.observability import lambda_entry, logger, metrics
from aiops.settings.deploy import DeployEventSettings

STACK = Stack(DeployEventSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = parse_event(AlarmStateChange, event)
    decisions = on_rollback_alarm(change, STACK.policy.load(), STACK.deploy, now())
    for decision in decisions:
        logger.info("rollback alarm", extra=decision.model_dump())
        metrics.add_metric(name=f"Rollback_{decision.action}", unit="Count", value=1)
    return {"decisions": [d.model_dump() for d in decisions]}
