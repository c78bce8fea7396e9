"""Deploy step: park the workflow's task token until the endpoint's outcome is known."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.deploy.model import AwaitDeploymentInput
from aiops.deploy.workflow import await_deployment
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.settings.deploy import DeployWaitSettings

STACK = Stack(DeployWaitSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(AwaitDeploymentInput, event)
    return {"state": await_deployment(step.request, step.task_token, STACK.deploy)}
