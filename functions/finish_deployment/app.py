"""Deploy step: read the endpoint, record how the deployment ended (promoted: the last known
good moves; rolled back by SageMaker; failed), release the endpoint to the next version."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.model import FinishDeploymentInput
from aiops.deploy.workflow import finish_deployment
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.settings.deploy import DeploySettings

STACK = Stack(DeploySettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(FinishDeploymentInput, event)
    result = finish_deployment(
        step.request, STACK.policy.load(), STACK.deploy, now(), error=step.error
    )
    return result.model_dump()
