"""Deploy step, Bedrock branch: take the model (or wait behind its serving change), then swap —
create or update its custom model deployment, or write its serving parameter."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.bedrock import start_serving
from aiops.deploy.model import StartDeploymentInput
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.settings.deploy import StartServingSettings

STACK = Stack(StartServingSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(StartDeploymentInput, event)
    result = start_serving(step.request, STACK.policy.load(), STACK.deploy, now())
    return result.model_dump()
