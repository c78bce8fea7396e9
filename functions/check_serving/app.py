"""Deploy step, Bedrock branch: read the custom model deployment; promote the version once it
serves, put the previous model back when the change failed or took too long, else wait again."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.bedrock import check_serving
from aiops.deploy.model import CheckServingInput
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.settings.deploy import DeploySettings

STACK = Stack(DeploySettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(CheckServingInput, event)
    result = check_serving(
        step.request, STACK.policy.load(), STACK.deploy, now(), polls=step.polls, error=step.error
    )
    return result.model_dump()
