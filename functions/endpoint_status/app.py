"""SageMaker endpoint events → resume the deploy workflow whose deployment ended (read from the
endpoint itself: the event only wakes it)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.workflow import on_endpoint_event
from aiops.events import parse_event
from aiops.events.sagemaker import EndpointStateChange
from aiops.observability import lambda_entry, logger
from aiops.settings.deploy import DeployEventSettings

STACK = Stack(DeployEventSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = parse_event(EndpointStateChange, event)
    decision = on_endpoint_event(change, STACK.policy.load(), STACK.deploy, now())
    logger.info("endpoint event", extra=decision.model_dump())
    return decision.model_dump()
