"""Deploy step: take the endpoint (or wait behind its deployment), create the Model and the
EndpointConfig, and ask SageMaker to create or update the endpoint (blue/green)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.model import StartDeploymentInput
from aiops.deploy.workflow import start_deployment
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.settings.deploy import StartDeploymentSettings

STACK = Stack(StartDeploymentSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(StartDeploymentInput, event)
    result = start_deployment(
        step.request, STACK.policy.load(), STACK.deploy, now(), after_shadow=step.after_shadow
    )
    return result.model_dump()
