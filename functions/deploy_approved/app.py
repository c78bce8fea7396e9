"""SageMaker Model Package State Change to Approved → the deploy workflow, only for a package of
a model the policy deploys that passed our gate; any other approval is recorded and alerted."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.trigger import request_deployment
from aiops.events import parse_event
from aiops.events.sagemaker import ModelPackageStateChange
from aiops.observability import lambda_entry, logger, metrics
from aiops.settings.deploy import DeployApprovedSettings

STACK = Stack(DeployApprovedSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = parse_event(ModelPackageStateChange, event)
    decision = request_deployment(change, STACK.policy.load(), STACK.deploy, now())
    logger.info("approved package", extra=decision.model_dump())
    metrics.add_metric(name=f"DeployTrigger_{decision.action}", unit="Count", value=1)
    return decision.model_dump()
