"""Deploy step, after a shadow test: the candidate's 5xx rate and latency against production's
decide, by the policy — promote (traffic shifts next) or discard (marked, never deployed)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.deploy.model import StartDeploymentInput
from aiops.deploy.workflow import judge_shadow
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.settings.deploy import DeploySettings

STACK = Stack(DeploySettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(StartDeploymentInput, event)
    return judge_shadow(step.request, STACK.policy.load(), STACK.deploy, now()).model_dump()
